// Failure type names: the `type` of every ApplicationFailure the workflows, activities and API
// raise or branch on. Callers match these, never message text.

export const FailureType = {
  alreadyTerminal: 'AlreadyTerminal',
  invalidDecision: 'InvalidDecision',
  /** The provider refused the request itself (4xx): retrying cannot help. */
  providerRejected: 'ProviderRejected',
  providerUnavailable: 'ProviderUnavailable',
  /** This worker's budget of reads of the provider is spent for now (PROVIDER_READS_*): not retried, the workflow reads again later. */
  providerReadOverBudget: 'ProviderReadOverBudget',
  verificationNotFound: 'VerificationNotFound',
  /** The SMTP server refused or could not be reached (retried, then recorded as failed). */
  emailFailed: 'EmailDeliveryFailed',
  webhookDeliveryNotFound: 'WebhookDeliveryNotFound',
} as const;
