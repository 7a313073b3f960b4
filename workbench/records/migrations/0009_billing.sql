-- Billing (Stripe) -> plan tier (issue #15). The webhook (POST /api/v1/billing/stripe)
-- writes these with the service connection; users READ their own billing columns and
-- events, and never write them: no column grant, no policy, and a guard trigger that
-- refuses any change by a non-service caller (an admin's JWT included), so nobody can
-- claim another user's Stripe customer (and with it their paid plan) or extend a period.
-- Idempotent: safe to run again by hand.

ALTER TABLE public.profiles
  ADD COLUMN IF NOT EXISTS stripe_customer_id text,
  ADD COLUMN IF NOT EXISTS billing_tier text
    CHECK (billing_tier IS NULL OR billing_tier IN ('free', 'premium', 'educator')),
  ADD COLUMN IF NOT EXISTS billing_status text,
  ADD COLUMN IF NOT EXISTS billing_period_end timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS profiles_stripe_customer_idx
  ON public.profiles (stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS profiles_billing_period_end_idx
  ON public.profiles (billing_period_end) WHERE billing_period_end IS NOT NULL;

-- One row per Stripe customer: its subscription state, kept before a checkout links it to
-- a profile (Stripe delivers events in any order). event_at: created time of the newest
-- applied event; an older one does not win.
CREATE TABLE IF NOT EXISTS public.billing_customers (
  id text PRIMARY KEY,                                   -- cus_...
  profile_id uuid REFERENCES public.profiles(id) ON DELETE SET NULL,
  subscription_id text,
  status text,
  price_id text,
  tier text CHECK (tier IS NULL OR tier IN ('free', 'premium', 'educator')),
  period_end timestamptz,
  event_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS billing_customers_profile_idx
  ON public.billing_customers (profile_id) WHERE profile_id IS NOT NULL;

-- Every event once: the primary key is Stripe's event id, inserted ON CONFLICT DO NOTHING
-- in the transaction that applies it, so two concurrent deliveries apply it once.
CREATE TABLE IF NOT EXISTS public.billing_events (
  id text PRIMARY KEY,                                   -- evt_...
  type text NOT NULL,
  created timestamptz NOT NULL,
  customer_id text,
  profile_id uuid REFERENCES public.profiles(id) ON DELETE SET NULL,
  outcome text NOT NULL DEFAULT 'processing'
    CHECK (outcome IN ('processing', 'applied', 'stale', 'ignored')),
  reason jsonb,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS billing_events_profile_idx
  ON public.billing_events (profile_id, received_at DESC);

DROP TRIGGER IF EXISTS set_updated_at ON public.billing_customers;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.billing_customers
  FOR EACH ROW EXECUTE FUNCTION public.workbench_set_updated_at();

-- -- guard: the billing columns of a profile are the service's --------------------------
CREATE OR REPLACE FUNCTION public.workbench_guard_profile_billing() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF public.workbench_is_trusted() THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.stripe_customer_id IS NOT NULL OR NEW.billing_tier IS NOT NULL
       OR NEW.billing_status IS NOT NULL OR NEW.billing_period_end IS NOT NULL THEN
      RAISE EXCEPTION 'billing columns of a profile are written by the billing webhook only'
        USING ERRCODE = '42501';
    END IF;
  ELSIF NEW.stripe_customer_id IS DISTINCT FROM OLD.stripe_customer_id
        OR NEW.billing_tier IS DISTINCT FROM OLD.billing_tier
        OR NEW.billing_status IS DISTINCT FROM OLD.billing_status
        OR NEW.billing_period_end IS DISTINCT FROM OLD.billing_period_end THEN
    RAISE EXCEPTION 'billing columns of a profile are written by the billing webhook only'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_profile_billing ON public.profiles;
CREATE TRIGGER guard_profile_billing BEFORE INSERT OR UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_profile_billing();

-- -- grants: reset (Supabase's defaults give ALL to anon/authenticated), then read-only --
-- profiles: the UPDATE grant of 0006 names its columns; the billing columns are not among
-- them. The new tables: users SELECT their own rows, nothing else.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['billing_customers', 'billing_events']
  LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC, anon, authenticated', t);
    EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
    EXECUTE format('GRANT SELECT ON public.%I TO authenticated', t);
    EXECUTE format('DROP POLICY IF EXISTS owner_select ON public.%I', t);
    EXECUTE format('CREATE POLICY owner_select ON public.%I FOR SELECT TO authenticated '
                   'USING (profile_id = (SELECT auth.uid()) OR public.workbench_is_admin())', t);
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION public.workbench_guard_profile_billing() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.workbench_guard_profile_billing() TO service_role;
