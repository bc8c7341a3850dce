// The reducer's effects as the recordEvents activity takes them (domain/history.ts): copied
// field by field, so whatever the reducer carries for itself never reaches the activity payload.
import type { HistoryEntry, RecordedEffect } from '../domain/history.ts';
import type { Effect } from './state.ts';

export function toRecordedEffects(effects: readonly Effect[]): RecordedEffect[] {
  return effects.map((effect): RecordedEffect => {
    switch (effect.type) {
      case 'record':
        return { type: 'record', entry: toHistoryEntry(effect.entry) };
      case 'statusChanged':
        return { type: 'statusChanged', from: effect.from, to: effect.to };
      case 'storeDocument':
        return {
          type: 'storeDocument',
          webhookEventId: effect.webhookEventId,
          eventId: effect.eventId,
          onlyIfMissing: effect.onlyIfMissing,
        };
    }
  });
}

function toHistoryEntry(entry: HistoryEntry): HistoryEntry {
  const { seq, at, source, eventId, from, to, applied, reason } = entry;
  return { seq, at, source, eventId, from, to, applied, reason };
}
