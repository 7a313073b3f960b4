-- Paper tick claims (issue #19): each (run, slot) is claimed here before a tick executes,
-- so schedulers on several machines sharing this database run every slot once, and a
-- restarted scheduler never starts a slot whose tick still runs. A claim holds a lease
-- that its tick renews; a dead holder's claim expires with the lease.
-- Service-only writes (like the ledgers of 0006); owners and admins may read their rows.

CREATE TABLE IF NOT EXISTS public.paper_tick_claims (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES public.paper_trade_runs(id) ON DELETE CASCADE,
  owner_id uuid NOT NULL,
  slot timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  holder text NOT NULL DEFAULT '',
  lease_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, slot)
);
CREATE INDEX IF NOT EXISTS paper_tick_claims_run_status
  ON public.paper_tick_claims (run_id, status);

ALTER TABLE public.paper_tick_claims ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.paper_tick_claims FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.paper_tick_claims TO service_role;
GRANT SELECT ON public.paper_tick_claims TO authenticated;
DROP POLICY IF EXISTS owner_select ON public.paper_tick_claims;
CREATE POLICY owner_select ON public.paper_tick_claims FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin());
