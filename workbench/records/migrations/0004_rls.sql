-- Row-level security on every user table.
--   owners: their own rows (owner column = auth.uid());
--   admins: every row (role claim app_metadata.role = 'admin' in the JWT);
--   anon: only published public templates;
--   service_role: bypasses RLS (scheduled runs, the postgres backend).
-- Append-only ledgers (paper_fills, audit_log, key_access_log) get no UPDATE/DELETE policy.

DO $$
DECLARE
  t text;
  owner_col text;
  spec text[];
  specs text[][] := ARRAY[
    ARRAY['profiles', 'id'], ARRAY['strategies', 'owner_id'],
    ARRAY['strategy_versions', 'owner_id'], ARRAY['backtest_runs', 'owner_id'],
    ARRAY['paper_trade_runs', 'owner_id'], ARRAY['paper_fills', 'owner_id'],
    ARRAY['paper_ticks', 'owner_id'], ARRAY['template_shares', 'educator_id'],
    ARRAY['compliance_events', 'created_by'], ARRAY['audit_log', 'actor_id'],
    ARRAY['notifications', 'user_id'], ARRAY['plan_usage', 'user_id'],
    ARRAY['exchange_keys', 'owner_id'], ARRAY['key_access_log', 'owner_id']];
BEGIN
  FOREACH spec SLICE 1 IN ARRAY specs
  LOOP
    t := spec[1];
    owner_col := spec[2];
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('REVOKE ALL ON public.%I FROM anon, authenticated', t);
    EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
    EXECUTE format('DROP POLICY IF EXISTS owner_select ON public.%I', t);
    EXECUTE format('CREATE POLICY owner_select ON public.%I FOR SELECT TO authenticated '
                   'USING (%I = auth.uid() OR public.workbench_is_admin())', t, owner_col);
    EXECUTE format('GRANT SELECT ON public.%I TO authenticated', t);
    IF t NOT IN ('plan_usage') THEN
      EXECUTE format('DROP POLICY IF EXISTS owner_insert ON public.%I', t);
      EXECUTE format('CREATE POLICY owner_insert ON public.%I FOR INSERT TO authenticated '
                     'WITH CHECK (%I = auth.uid() OR public.workbench_is_admin())', t, owner_col);
      EXECUTE format('GRANT INSERT ON public.%I TO authenticated', t);
    END IF;
    IF t NOT IN ('paper_fills', 'audit_log', 'key_access_log', 'plan_usage') THEN
      EXECUTE format('DROP POLICY IF EXISTS owner_update ON public.%I', t);
      EXECUTE format('CREATE POLICY owner_update ON public.%I FOR UPDATE TO authenticated '
                     'USING (%I = auth.uid() OR public.workbench_is_admin()) '
                     'WITH CHECK (%I = auth.uid() OR public.workbench_is_admin())',
                     t, owner_col, owner_col);
      EXECUTE format('DROP POLICY IF EXISTS owner_delete ON public.%I', t);
      EXECUTE format('CREATE POLICY owner_delete ON public.%I FOR DELETE TO authenticated '
                     'USING (%I = auth.uid() OR public.workbench_is_admin())', t, owner_col);
      EXECUTE format('GRANT UPDATE, DELETE ON public.%I TO authenticated', t);
    END IF;
  END LOOP;
END
$$;

-- Compliance decisions are the reviewers' (admins'): owners read and file, never decide.
DROP POLICY IF EXISTS owner_update ON public.compliance_events;
CREATE POLICY owner_update ON public.compliance_events FOR UPDATE TO authenticated
  USING (public.workbench_is_admin()) WITH CHECK (public.workbench_is_admin());
DROP POLICY IF EXISTS owner_insert ON public.compliance_events;
CREATE POLICY owner_insert ON public.compliance_events FOR INSERT TO authenticated
  WITH CHECK ((created_by = auth.uid() AND status = 'open') OR public.workbench_is_admin());

-- Published templates: public ones for everyone (anon too), cohort ones for members.
DROP POLICY IF EXISTS published_public ON public.template_shares;
CREATE POLICY published_public ON public.template_shares FOR SELECT TO anon, authenticated
  USING (status = 'published' AND audience = 'public');
DROP POLICY IF EXISTS published_cohort ON public.template_shares;
CREATE POLICY published_cohort ON public.template_shares FOR SELECT TO authenticated
  USING (status = 'published' AND audience = 'cohort' AND EXISTS (
    SELECT 1 FROM public.profiles p WHERE p.id = auth.uid() AND p.cohorts ? cohort_id));
GRANT SELECT ON public.template_shares TO anon;

-- The graph of a published template is readable by whoever may read the template (to clone).
DROP POLICY IF EXISTS published_template_version ON public.strategy_versions;
CREATE POLICY published_template_version ON public.strategy_versions FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1 FROM public.template_shares s
                  WHERE s.strategy_version_id = strategy_versions.id AND s.status = 'published'));

-- Public strategies are readable by signed-in users.
DROP POLICY IF EXISTS public_strategies ON public.strategies;
CREATE POLICY public_strategies ON public.strategies FOR SELECT TO authenticated
  USING (visibility = 'public' AND status <> 'archived');
