-- The first-run checklist (issue #15, onboarding): one row per profile with what no other
-- record shows -- the checklist dismissed, the results of one's own run opened. Every other
-- item is derived from the records (runs, versions, paper runs, templates, candles).
-- Users read and write only their own row; the run a row names must be their own run.
-- Admins read every row (support); nobody writes another user's row but the service.
-- Idempotent: safe to run again by hand.

CREATE TABLE IF NOT EXISTS public.onboarding_state (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL UNIQUE REFERENCES public.profiles(id) ON DELETE CASCADE,
  dismissed_at timestamptz,
  results_opened_at timestamptz,
  results_run_id uuid REFERENCES public.backtest_runs(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

DROP TRIGGER IF EXISTS set_updated_at ON public.onboarding_state;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.onboarding_state
  FOR EACH ROW EXECUTE FUNCTION public.workbench_set_updated_at();

-- the run named must be the caller's own (a trusted connection may name any)
CREATE OR REPLACE FUNCTION public.workbench_owns_backtest(p_run_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT p_run_id IS NULL
      OR public.workbench_is_trusted()
      OR EXISTS (SELECT 1 FROM public.backtest_runs r
                  WHERE r.id = p_run_id AND r.owner_id = auth.uid())
$$;
REVOKE ALL ON FUNCTION public.workbench_owns_backtest(uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.workbench_owns_backtest(uuid)
  TO authenticated, service_role;

-- grants: reset (Supabase's default privileges give ALL to anon/authenticated), then
-- exactly what the owner needs; anon gets nothing
ALTER TABLE public.onboarding_state ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.onboarding_state FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.onboarding_state TO service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.onboarding_state TO authenticated;

DROP POLICY IF EXISTS owner_select ON public.onboarding_state;
CREATE POLICY owner_select ON public.onboarding_state FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR public.workbench_is_admin());
DROP POLICY IF EXISTS owner_insert ON public.onboarding_state;
CREATE POLICY owner_insert ON public.onboarding_state FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid())
              AND public.workbench_owns_backtest(results_run_id));
DROP POLICY IF EXISTS owner_update ON public.onboarding_state;
CREATE POLICY owner_update ON public.onboarding_state FOR UPDATE TO authenticated
  USING (user_id = (SELECT auth.uid()))
  WITH CHECK (user_id = (SELECT auth.uid())
              AND public.workbench_owns_backtest(results_run_id));
DROP POLICY IF EXISTS owner_delete ON public.onboarding_state;
CREATE POLICY owner_delete ON public.onboarding_state FOR DELETE TO authenticated
  USING (user_id = (SELECT auth.uid()));
