ALTER TABLE "webhook_deliveries" ADD COLUMN "seq" integer;--> statement-breakpoint
-- Rows written before ordered delivery: numbered in the order they were written.
UPDATE "webhook_deliveries" AS d SET "seq" = numbered.n FROM (SELECT "id", row_number() OVER (PARTITION BY "verification_id" ORDER BY "created_at", "event_seq", "id") AS n FROM "webhook_deliveries") AS numbered WHERE d."id" = numbered."id";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ALTER COLUMN "seq" SET NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_verification_id_seq_idx" ON "webhook_deliveries" USING btree ("verification_id","seq");
--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_expires_at" timestamp with time zone;