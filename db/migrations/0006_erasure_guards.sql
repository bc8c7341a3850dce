-- Once a verification's personal data is erased, no writer may bring it back: a late webhook is
-- stored without its body, and a document from a late webhook, a poll or a step is dropped. Kept
-- in the database so every writer (API replicas, workers, older code during a deploy) obeys it.
-- The erasure transaction holds the verification's advisory lock exclusively; the shared lock
-- here waits for it, and the check after it (a new snapshot in read committed) sees the committed
-- erasure. Advisory, not a row lock on verifications: concurrent inserts of one webhook holding
-- row locks while waiting on each other's unique-index entry deadlocked.
CREATE FUNCTION veriflow_personal_data_erased(verification uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended(verification::text, 0));
  RETURN EXISTS (SELECT 1 FROM personal_data_erasures WHERE verification_id = verification);
END $$;
--> statement-breakpoint
CREATE FUNCTION veriflow_drop_erased_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF veriflow_personal_data_erased(NEW.verification_id) THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER verification_documents_not_after_erasure BEFORE INSERT OR UPDATE ON verification_documents
FOR EACH ROW EXECUTE FUNCTION veriflow_drop_erased_document();
--> statement-breakpoint
CREATE FUNCTION veriflow_erase_late_webhook_payload() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.verification_id IS NOT NULL AND veriflow_personal_data_erased(NEW.verification_id) THEN
    NEW.payload := '{"personalDataErased": true}'::jsonb;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER webhook_events_payload_not_after_erasure BEFORE INSERT ON webhook_events
FOR EACH ROW EXECUTE FUNCTION veriflow_erase_late_webhook_payload();
