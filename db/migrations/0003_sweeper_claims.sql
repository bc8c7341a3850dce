ALTER TABLE "webhook_deliveries" ADD COLUMN "next_sweep_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "event" jsonb;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "next_sweep_at" timestamp with time zone;