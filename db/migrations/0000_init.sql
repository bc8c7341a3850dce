CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"allowed_providers" text[],
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "verification_documents" (
	"verification_id" uuid PRIMARY KEY NOT NULL,
	"type" text,
	"id_class" text,
	"number" text,
	"expires_at" text,
	"issued_at" text,
	"issuing_authority" text,
	"country" text,
	"first_name" text,
	"middle_name" text,
	"last_name" text,
	"birthdate" text,
	"sex" text,
	"nationality" text,
	"address" text,
	"source_event_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "verification_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "verification_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"verification_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"event_id" text,
	"from_status" text,
	"to_status" text NOT NULL,
	"applied" boolean NOT NULL,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "verifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"status" text DEFAULT 'created' NOT NULL,
	"provider_status" text,
	"provider_ref" text,
	"reference" text,
	"template_id" text,
	"session_url" text,
	"expires_at" timestamp with time zone,
	"progress" jsonb,
	"result" jsonb,
	"metadata" jsonb,
	"applicant" jsonb,
	"idempotency_key" text,
	"request_hash" text,
	"workflow_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"provider_event_id" text NOT NULL,
	"event_type" text,
	"verification_id" uuid,
	"provider_ref" text,
	"occurred_at" timestamp with time zone,
	"payload" jsonb NOT NULL,
	"signature_valid" boolean NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"processed_at" timestamp with time zone,
	"outcome" text DEFAULT 'received' NOT NULL,
	"error_message" text,
	"correlation_id" text,
	"delivery_attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verification_documents" ADD CONSTRAINT "verification_documents_verification_id_verifications_id_fk" FOREIGN KEY ("verification_id") REFERENCES "public"."verifications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verification_history" ADD CONSTRAINT "verification_history_verification_id_verifications_id_fk" FOREIGN KEY ("verification_id") REFERENCES "public"."verifications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verifications" ADD CONSTRAINT "verifications_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_verification_id_verifications_id_fk" FOREIGN KEY ("verification_id") REFERENCES "public"."verifications"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "verification_history_verification_id_seq_idx" ON "verification_history" USING btree ("verification_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "verifications_tenant_id_idempotency_key_idx" ON "verifications" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "verifications_provider_provider_ref_idx" ON "verifications" USING btree ("provider","provider_ref");--> statement-breakpoint
CREATE INDEX "verifications_tenant_id_created_at_id_idx" ON "verifications" USING btree ("tenant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "verifications_tenant_id_status_idx" ON "verifications" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "verifications_tenant_id_reference_idx" ON "verifications" USING btree ("tenant_id","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_provider_provider_event_id_idx" ON "webhook_events" USING btree ("provider","provider_event_id");--> statement-breakpoint
CREATE INDEX "webhook_events_undelivered_idx" ON "webhook_events" USING btree ("received_at") WHERE "webhook_events"."delivered_at" is null and "webhook_events"."outcome" = 'received';--> statement-breakpoint
CREATE INDEX "webhook_events_verification_id_idx" ON "webhook_events" USING btree ("verification_id");