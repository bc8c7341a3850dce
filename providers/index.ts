import { isProviderName, type ProviderName } from '../domain/verification.ts';
import { ProviderError } from './errors.ts';
import { createIdmetaAdapter } from './idmeta/index.ts';
import { createPersonaAdapter } from './persona/index.ts';
import { createSmileIdAdapter } from './smileid/index.ts';
import { createStripeAdapter } from './stripe/index.ts';
import type { ProviderAdapter } from './types.ts';

/** A provider name we do not know, or one whose configuration is missing. */
export class UnknownProviderError extends ProviderError {
  override readonly code = 'VF_UNKNOWN_PROVIDER';
  override readonly name = 'UnknownProviderError';
}

// A provider plugs in with one line here; its config key and type follow from the factory.
const ADAPTER_FACTORIES = {
  idmeta: createIdmetaAdapter,
  persona: createPersonaAdapter,
  smileid: createSmileIdAdapter,
  stripe: createStripeAdapter,
} satisfies { [P in ProviderName]?: (config: never) => ProviderAdapter };

type ConfigurableProvider = keyof typeof ADAPTER_FACTORIES;
type ProviderConfig<P extends ConfigurableProvider> = Parameters<(typeof ADAPTER_FACTORIES)[P]>[0];

export type ProviderRegistryConfig = { [P in ConfigurableProvider]?: ProviderConfig<P> };

// The mapped type lets TypeScript check `factory(config)` for each provider name separately.
const factories: { [P in ConfigurableProvider]: (config: ProviderConfig<P>) => ProviderAdapter } = ADAPTER_FACTORIES;

function buildAdapter<P extends ConfigurableProvider>(name: P, config: ProviderRegistryConfig): ProviderAdapter | null {
  const providerConfig = config[name];
  return providerConfig === undefined ? null : factories[name](providerConfig);
}

export interface ProviderRegistry {
  /** Throws UnknownProviderError for an unknown or unconfigured provider. */
  get(name: string): ProviderAdapter;
  has(name: string): boolean;
  /** The configured providers. */
  list(): ProviderName[];
}

export function createProviderRegistry(config: ProviderRegistryConfig): ProviderRegistry {
  // Built up front so a bad configuration fails at start-up, not on the first verification.
  const adapters = new Map<string, ProviderAdapter>();
  for (const name of Object.keys(ADAPTER_FACTORIES) as ConfigurableProvider[]) {
    const adapter = buildAdapter(name, config);
    if (adapter !== null) adapters.set(name, adapter);
  }

  return {
    get(name) {
      const adapter = adapters.get(name);
      if (adapter !== undefined) return adapter;
      throw new UnknownProviderError(isProviderName(name) ? `Provider ${name} is not configured` : `Unknown provider ${name}`);
    },
    has: (name) => adapters.has(name),
    list: () => [...adapters.values()].map((adapter) => adapter.name),
  };
}
