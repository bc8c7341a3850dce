// What a provider can do, as data: each adapter declares its capabilities, and the workflow gets
// them (plus `multiStep`) in its input, so workflows never import provider code. The field
// names are wire format: recorded workflow inputs carry them.

export interface ProviderCapabilities {
  /** The workflow reads the provider's state before applying a webhook (the webhook is a nudge). */
  fetchBeforeApply: boolean;
  /**
   * The webhook signature covers the body. When it does not (SmileID signs only a timestamp and
   * the partner id), a body is never applied unless a read of the provider confirms it.
   */
  bodySigned: boolean;
  /** The provider has a read API the fallback poller can use. */
  polling: boolean;
  /** A terminal decision may legitimately be followed by a newer non-terminal one (Stripe active -> pending). */
  reverification: boolean;
  /** The hosted session expires (Persona, SmileID links): the workflow runs an expiry timer. */
  sessionExpiry: boolean;
  /**
   * The provider's entity lives on after a decision (a Stripe account): its workflow never
   * closes on a terminal status, only continues-as-new, so later changes always have a home.
   */
  longLived: boolean;
}

/** Per-provider behaviour the verification workflow runs by: the capabilities, and whether it has template steps. */
export interface ProviderBehaviour extends ProviderCapabilities {
  /** Template provider: run the template's steps as activities, then finalize. */
  multiStep: boolean;
}
