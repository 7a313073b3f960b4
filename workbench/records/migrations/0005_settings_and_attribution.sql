-- Notification channel settings kept with the profile (webhook secret encrypted by the
-- key vault's Fernet key before it is stored), and clone attribution as columns.
-- Idempotent; the owner policies of 0004 already cover both tables.

ALTER TABLE public.profiles
  ADD COLUMN IF NOT EXISTS notification_settings jsonb;

ALTER TABLE public.strategies
  ADD COLUMN IF NOT EXISTS source_version_id uuid,
  ADD COLUMN IF NOT EXISTS source_educator_id uuid;

CREATE INDEX IF NOT EXISTS strategies_by_source_template_idx
  ON public.strategies (source_template_id) WHERE source_template_id IS NOT NULL;
