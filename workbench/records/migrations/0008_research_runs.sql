-- Recorded sweeps and walk-forwards (issue #13): one row per run, the stored JSON
-- document's key in provenance.result_uri. Owners read their rows; they write them only
-- as 0006 lets them write backtest_runs: as themselves, and pointing at a strategy and a
-- version they own (the parent's owner is checked, not only the row's own column).
-- Idempotent: safe to run again by hand.

CREATE TABLE IF NOT EXISTS public.research_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  strategy_id uuid REFERENCES public.strategies(id) ON DELETE CASCADE,
  strategy_version_id uuid REFERENCES public.strategy_versions(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('sweep', 'walkforward')),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  parameters jsonb NOT NULL DEFAULT '{}',
  summary jsonb,
  provenance jsonb NOT NULL DEFAULT '{}',
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS research_runs_by_owner_idx
  ON public.research_runs (owner_id, created_at DESC);
CREATE INDEX IF NOT EXISTS research_runs_by_strategy_idx
  ON public.research_runs (strategy_id, created_at DESC);

DROP TRIGGER IF EXISTS set_updated_at ON public.research_runs;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.research_runs
  FOR EACH ROW EXECUTE FUNCTION public.workbench_set_updated_at();

-- grants: reset (Supabase's default privileges give ALL to anon/authenticated), then
-- exactly what the owner needs; anon gets nothing
ALTER TABLE public.research_runs ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.research_runs FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.research_runs TO service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.research_runs TO authenticated;

DROP POLICY IF EXISTS owner_select ON public.research_runs;
CREATE POLICY owner_select ON public.research_runs FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin());
DROP POLICY IF EXISTS owner_insert ON public.research_runs;
CREATE POLICY owner_insert ON public.research_runs FOR INSERT TO authenticated
  WITH CHECK ((owner_id = (SELECT auth.uid()) OR public.workbench_is_admin())
              AND public.workbench_owns_strategy(strategy_id)
              AND public.workbench_owns_version(strategy_version_id));
DROP POLICY IF EXISTS owner_update ON public.research_runs;
CREATE POLICY owner_update ON public.research_runs FOR UPDATE TO authenticated
  USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin())
  WITH CHECK ((owner_id = (SELECT auth.uid()) OR public.workbench_is_admin())
              AND public.workbench_owns_strategy(strategy_id)
              AND public.workbench_owns_version(strategy_version_id));
DROP POLICY IF EXISTS owner_delete ON public.research_runs;
CREATE POLICY owner_delete ON public.research_runs FOR DELETE TO authenticated
  USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin());
