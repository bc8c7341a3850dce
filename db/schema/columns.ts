import { timestamp } from 'drizzle-orm/pg-core';

// Every instant is stored as timestamptz: provider event times arrive with offsets, and ordering
// events (the reducer's rule 2) must not depend on the server's time zone.
export const timestamptz = () => timestamp({ withTimezone: true, mode: 'date' });

export const createdAt = () => timestamptz().notNull().defaultNow();

export const updatedAt = () =>
  timestamptz()
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
