-- Trust boundaries (issue #11): who may write what, checked in the database itself.
--
-- * Roles, plans and cohorts are written by the service role (or an admin JWT) only; a
--   user's own profile may be created once, with the role and plan its JWT's
--   app_metadata (written only by the service) carries.
-- * Every child row's policy checks the PARENT's owner, not only the row's own column.
-- * Append-only ledgers (paper_fills, paper_ticks, audit_log, key_access_log) are
--   written by the service role; users append audit events and key-access rows only
--   through SECURITY DEFINER functions that fix the actor, seq, time and hash.
-- * A change to a template's reviewed content (or a takedown) bumps content_rev and
--   needs a disclosure approved for that revision before it is public again.
-- * Quotas: positive amounts, the limit from public.plan_limits, the current window.
-- * Every function has a fixed search_path; grants are reset so Supabase's default
--   privileges (ALL to anon/authenticated) do not open anything.
-- Idempotent: safe to run again by hand.

-- -- private schema (migration bookkeeping, clone counting) --------------------------
CREATE SCHEMA IF NOT EXISTS workbench_private;
REVOKE ALL ON SCHEMA workbench_private FROM PUBLIC, anon, authenticated;
CREATE TABLE IF NOT EXISTS workbench_private.counted_clones (
  strategy_id uuid PRIMARY KEY,
  template_id uuid NOT NULL,
  counted_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON workbench_private.counted_clones FROM PUBLIC, anon, authenticated;
DO $$
BEGIN  -- applied by hand on a database whose bookkeeping is still in public
  IF to_regclass('public.schema_migrations') IS NOT NULL THEN
    ALTER TABLE public.schema_migrations ENABLE ROW LEVEL SECURITY;
    REVOKE ALL ON public.schema_migrations FROM PUBLIC, anon, authenticated;
  END IF;
END
$$;

-- -- new columns and tables ---------------------------------------------------------
ALTER TABLE public.template_shares
  ADD COLUMN IF NOT EXISTS content_rev integer NOT NULL DEFAULT 1;

CREATE TABLE IF NOT EXISTS public.plan_limits (
  plan_tier text NOT NULL,
  metric text NOT NULL,
  daily_limit integer NOT NULL CHECK (daily_limit >= -1),  -- -1: unlimited
  PRIMARY KEY (plan_tier, metric)
);
INSERT INTO public.plan_limits (plan_tier, metric, daily_limit) VALUES
  ('free', 'backtests', 20), ('free', 'paper_trade_runs', 3),
  ('free', 'template_publishes', 0), ('free', 'paper_ticks', 2000),
  ('premium', 'backtests', 500), ('premium', 'paper_trade_runs', 50),
  ('premium', 'template_publishes', 10), ('premium', 'paper_ticks', 50000),
  ('educator', 'backtests', 500), ('educator', 'paper_trade_runs', 50),
  ('educator', 'template_publishes', 25), ('educator', 'paper_ticks', 50000)
ON CONFLICT (plan_tier, metric) DO NOTHING;

-- -- helpers ------------------------------------------------------------------------
-- The role and plan the service wrote into the JWT's app_metadata (users cannot edit it).
CREATE OR REPLACE FUNCTION public.workbench_claimed_role() RETURNS text
LANGUAGE sql STABLE SET search_path = '' AS $$
  SELECT CASE WHEN auth.jwt() -> 'app_metadata' ->> 'role' IN ('builder', 'educator', 'admin')
              THEN auth.jwt() -> 'app_metadata' ->> 'role' ELSE 'builder' END
$$;
CREATE OR REPLACE FUNCTION public.workbench_claimed_plan() RETURNS text
LANGUAGE sql STABLE SET search_path = '' AS $$
  SELECT CASE WHEN coalesce(auth.jwt() -> 'app_metadata' ->> 'plan',
                            auth.jwt() -> 'app_metadata' ->> 'tier')
                   IN ('free', 'premium', 'educator')
              THEN coalesce(auth.jwt() -> 'app_metadata' ->> 'plan',
                            auth.jwt() -> 'app_metadata' ->> 'tier')
              ELSE 'free' END
$$;

-- Parent checks. SECURITY DEFINER so they see the parent whatever its own policies
-- say; each answers only "is this the caller's (or may an admin/service touch it)".
CREATE OR REPLACE FUNCTION public.workbench_owns_strategy(p_strategy_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT p_strategy_id IS NULL
      OR public.workbench_is_trusted() OR public.workbench_is_admin()
      OR EXISTS (SELECT 1 FROM public.strategies s
                  WHERE s.id = p_strategy_id AND s.owner_id = auth.uid())
$$;
CREATE OR REPLACE FUNCTION public.workbench_owns_version(p_version_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT p_version_id IS NULL
      OR public.workbench_is_trusted() OR public.workbench_is_admin()
      OR EXISTS (SELECT 1 FROM public.strategy_versions v
                   JOIN public.strategies s ON s.id = v.strategy_id
                  WHERE v.id = p_version_id AND v.owner_id = auth.uid()
                    AND s.owner_id = auth.uid())
$$;
CREATE OR REPLACE FUNCTION public.workbench_owns_subject(p_type text, p_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT CASE p_type
    WHEN 'template' THEN EXISTS (SELECT 1 FROM public.template_shares t
                                  WHERE t.id = p_id AND t.educator_id = auth.uid())
    WHEN 'strategy' THEN EXISTS (SELECT 1 FROM public.strategies s
                                  WHERE s.id = p_id AND s.owner_id = auth.uid())
    ELSE p_id IS NULL END
$$;
-- The template revision a disclosure review is about (absent: the first revision).
CREATE OR REPLACE FUNCTION public.workbench_review_matches(p_template_id uuid, p_payload jsonb)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (SELECT 1 FROM public.template_shares t WHERE t.id = p_template_id
                   AND coalesce(p_payload -> 'content_rev', '1'::jsonb) = to_jsonb(t.content_rev))
$$;

-- -- canonical JSON + audit append (the hash the Python chain verifier recomputes) ----
-- Mirrors workbench.governance.audit.canonical_json: sorted keys (code point order), no
-- spaces, UTF-8, ISO timestamps as UTC to the microsecond with a Z, floats as Python
-- prints them.
CREATE OR REPLACE FUNCTION public.workbench_canonical_json(p jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = '' SET timezone = 'UTC' SET extra_float_digits = 1
AS $$
DECLARE
  s text;
  t text;
BEGIN
  CASE jsonb_typeof(p)
    WHEN 'object' THEN
      RETURN '{' || coalesce((SELECT string_agg(to_json(k)::text || ':'
                                                || public.workbench_canonical_json(v), ','
                                                ORDER BY k COLLATE "C")
                                FROM jsonb_each(p) AS e(k, v)), '') || '}';
    WHEN 'array' THEN
      RETURN '[' || coalesce((SELECT string_agg(public.workbench_canonical_json(v), ','
                                                ORDER BY n)
                                FROM jsonb_array_elements(p) WITH ORDINALITY AS e(v, n)),
                             '') || ']';
    WHEN 'string' THEN
      s := p #>> '{}';
      IF length(s) >= 19 AND substr(s, 5, 1) = '-' AND substr(s, 11, 1) = 'T' THEN
        BEGIN
          t := to_char(replace(s, 'Z', '+00:00')::timestamptz,
                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
          RETURN to_json(t)::text;
        EXCEPTION WHEN others THEN
          RETURN to_json(s)::text;
        END;
      END IF;
      RETURN to_json(s)::text;
    WHEN 'number' THEN
      t := p::text;
      IF t ~ '^-?[0-9]+$' THEN
        RETURN t;
      END IF;
      t := (p::text)::float8::text;
      IF t ~ '^-?[0-9]+$' THEN
        RETURN t || '.0';
      END IF;
      RETURN t;
    ELSE
      RETURN p::text;  -- true, false, null
  END CASE;
END
$$;

CREATE OR REPLACE FUNCTION public.workbench_audit_append(
  p_action text, p_entity_type text DEFAULT '', p_entity_id text DEFAULT NULL,
  p_details jsonb DEFAULT '{}', p_actor_id uuid DEFAULT NULL)
RETURNS SETOF public.audit_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  head record;
  v_seq bigint;
  v_prev text;
  v_ts timestamptz := date_trunc('microseconds', clock_timestamp());
  v_actor uuid := p_actor_id;
  v_body text;
BEGIN
  IF NOT public.workbench_is_trusted() THEN
    IF auth.uid() IS NULL THEN
      RAISE EXCEPTION 'audit events need a signed-in user' USING ERRCODE = '42501';
    END IF;
    IF p_actor_id IS NOT NULL AND p_actor_id IS DISTINCT FROM auth.uid() THEN
      RAISE EXCEPTION 'audit events are recorded as their caller' USING ERRCODE = '42501';
    END IF;
    v_actor := auth.uid();
    IF NOT public.workbench_is_admin()
       AND p_action LIKE 'compliance.%' AND p_action <> 'compliance.requested' THEN
      RAISE EXCEPTION 'audit action % is an admin''s', p_action USING ERRCODE = '42501';
    END IF;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('audit_log'));
  SELECT a.seq, a.hash INTO head FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1;
  v_seq := coalesce(head.seq, 0) + 1;
  v_prev := coalesce(head.hash, repeat('0', 64));
  v_body := public.workbench_canonical_json(jsonb_build_object(
    'seq', v_seq, 'ts', to_char(v_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor_id', v_actor, 'action', p_action, 'entity_type', coalesce(p_entity_type, ''),
    'entity_id', p_entity_id, 'details', coalesce(p_details, '{}'::jsonb)));
  RETURN QUERY INSERT INTO public.audit_log
      (seq, ts, actor_id, action, entity_type, entity_id, details, prev_hash, hash)
    VALUES (v_seq, v_ts, v_actor, p_action, coalesce(p_entity_type, ''), p_entity_id,
            coalesce(p_details, '{}'::jsonb), v_prev,
            encode(sha256(convert_to(v_prev || E'\n' || v_body, 'UTF8')), 'hex'))
    RETURNING *;
END
$$;

-- A user logs accesses to their own keys, as themselves; nobody else's.
CREATE OR REPLACE FUNCTION public.workbench_log_key_access(
  p_key_id uuid, p_action text, p_purpose text DEFAULT '')
RETURNS SETOF public.key_access_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  v_owner uuid;
BEGIN
  SELECT k.owner_id INTO v_owner FROM public.exchange_keys k WHERE k.id = p_key_id;
  IF v_owner IS NULL OR (v_owner IS DISTINCT FROM auth.uid()
                         AND NOT public.workbench_is_admin()
                         AND NOT public.workbench_is_trusted()) THEN
    RAISE EXCEPTION 'no exchange key % of yours', p_key_id USING ERRCODE = '42501';
  END IF;
  RETURN QUERY INSERT INTO public.key_access_log (key_id, owner_id, actor_id, action, purpose)
    VALUES (p_key_id, v_owner, auth.uid(), p_action, coalesce(p_purpose, ''))
    RETURNING *;
END
$$;

-- -- quotas -------------------------------------------------------------------------
-- Trusted callers pass the limit (their plan configuration); a user gets the limit of
-- their own plan from public.plan_limits (a smaller p_limit only limits them more), in
-- the UTC day that contains now, and only positive amounts.
CREATE OR REPLACE FUNCTION public.workbench_consume_quota(
  p_user_id uuid, p_metric text, p_limit integer, p_window_start timestamptz,
  p_window_end timestamptz, p_amount integer DEFAULT 1)
RETURNS SETOF public.plan_usage
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  v_limit integer := p_limit;
  v_plan integer;
BEGIN
  IF p_amount IS NULL OR p_amount < 1 THEN
    RAISE EXCEPTION 'quota amount must be positive, got %', p_amount USING ERRCODE = '22023';
  END IF;
  IF NOT public.workbench_is_trusted() THEN
    IF p_user_id IS DISTINCT FROM auth.uid() THEN
      RAISE EXCEPTION 'quota of another user' USING ERRCODE = '42501';
    END IF;
    IF p_window_start IS DISTINCT FROM date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
       OR p_window_end IS DISTINCT FROM p_window_start + interval '1 day' THEN
      RAISE EXCEPTION 'quota window must be the current UTC day' USING ERRCODE = '42501';
    END IF;
    SELECT l.daily_limit INTO v_plan FROM public.plan_limits l
      WHERE l.metric = p_metric AND l.plan_tier = coalesce(
        (SELECT p.plan_tier FROM public.profiles p WHERE p.id = p_user_id), 'free');
    IF v_plan IS NULL THEN
      RAISE EXCEPTION 'no plan limit for metric %', p_metric USING ERRCODE = '42501';
    END IF;
    v_limit := least(coalesce(p_limit, 0), CASE WHEN v_plan = -1 THEN 2147483647 ELSE v_plan END);
  END IF;
  INSERT INTO public.plan_usage (user_id, metric, window_start, window_end, used, plan_limit)
  VALUES (p_user_id, p_metric, p_window_start, p_window_end, 0, v_limit)
  ON CONFLICT (user_id, metric, window_start) DO NOTHING;
  RETURN QUERY
    UPDATE public.plan_usage u
       SET used = u.used + p_amount, plan_limit = v_limit
     WHERE u.user_id = p_user_id AND u.metric = p_metric AND u.window_start = p_window_start
       AND u.used + p_amount <= v_limit
    RETURNING u.*;
END
$$;

-- -- clone counter --------------------------------------------------------------------
-- A user counts a clone only for a strategy of theirs that names the template as its
-- source, once per strategy. Trusted callers count as before.
CREATE OR REPLACE FUNCTION public.workbench_increment_clone_count(p_template_id uuid)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  v_strategy uuid;
  v_count integer;
BEGIN
  IF NOT public.workbench_is_trusted() THEN
    SELECT s.id INTO v_strategy FROM public.strategies s
     WHERE s.owner_id = auth.uid() AND s.source_template_id = p_template_id
       AND NOT EXISTS (SELECT 1 FROM workbench_private.counted_clones c
                        WHERE c.strategy_id = s.id)
     ORDER BY s.created_at LIMIT 1;
    IF v_strategy IS NULL THEN
      RAISE EXCEPTION 'clone template % into a strategy of yours first', p_template_id
        USING ERRCODE = '42501';
    END IF;
  END IF;
  UPDATE public.template_shares SET clone_count = clone_count + 1
   WHERE id = p_template_id AND status = 'published'
  RETURNING clone_count INTO v_count;
  IF v_count IS NOT NULL AND v_strategy IS NOT NULL THEN
    INSERT INTO workbench_private.counted_clones (strategy_id, template_id)
    VALUES (v_strategy, p_template_id);
  END IF;
  RETURN v_count;
END
$$;

-- -- guards -------------------------------------------------------------------------
-- Users never write role, plan or cohorts: a new profile takes the JWT's claims.
CREATE OR REPLACE FUNCTION public.workbench_guard_profile() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF public.workbench_is_trusted() OR public.workbench_is_admin() THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.role IS DISTINCT FROM public.workbench_claimed_role()
       OR NEW.plan_tier IS DISTINCT FROM public.workbench_claimed_plan()
       OR NEW.cohorts IS DISTINCT FROM '[]'::jsonb THEN
      RAISE EXCEPTION 'a new profile takes its role and plan from the token (%, %)',
        public.workbench_claimed_role(), public.workbench_claimed_plan()
        USING ERRCODE = '42501';
    END IF;
  ELSIF NEW.role IS DISTINCT FROM OLD.role OR NEW.plan_tier IS DISTINCT FROM OLD.plan_tier
        OR NEW.cohorts IS DISTINCT FROM OLD.cohorts OR NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'only the service role may change role, plan_tier or cohorts'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_profile ON public.profiles;
CREATE TRIGGER guard_profile BEFORE INSERT OR UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_profile();

-- A user changed reviewed content (version, title, metadata, notebook, audience, cohort)
-- or took the template down: a new revision, not public until a disclosure of that
-- revision is approved. The service and admins (the Python governance path, which does
-- the same) set content_rev and status themselves.
CREATE OR REPLACE FUNCTION public.workbench_guard_template() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
DECLARE
  privileged boolean := public.workbench_is_trusted() OR public.workbench_is_admin();
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT privileged THEN
      NEW.content_rev := 1;
      NEW.clone_count := 0;
      NEW.published_at := NULL;
    END IF;
  ELSIF NOT privileged THEN  -- the service and admins set content_rev themselves
    NEW.content_rev := OLD.content_rev;
    IF NEW.strategy_version_id IS DISTINCT FROM OLD.strategy_version_id
       OR NEW.title IS DISTINCT FROM OLD.title OR NEW.metadata IS DISTINCT FROM OLD.metadata
       OR NEW.notebook_path IS DISTINCT FROM OLD.notebook_path
       OR NEW.audience IS DISTINCT FROM OLD.audience
       OR NEW.cohort_id IS DISTINCT FROM OLD.cohort_id
       OR (NEW.status = 'taken_down' AND OLD.status IS DISTINCT FROM 'taken_down') THEN
      NEW.content_rev := OLD.content_rev + 1;
      IF NEW.status = 'published' THEN
        NEW.status := 'pending_review';
        NEW.published_at := NULL;
      END IF;
    END IF;
    IF NEW.clone_count IS DISTINCT FROM OLD.clone_count
       AND current_user IN ('anon', 'authenticated') THEN  -- not inside the counter
      RAISE EXCEPTION 'clone_count changes only through workbench_increment_clone_count'
        USING ERRCODE = '42501';
    END IF;
    NEW.published_at := CASE WHEN NEW.status = 'published' AND OLD.status <> 'published'
                             THEN now() ELSE OLD.published_at END;
  END IF;
  IF NEW.status = 'published' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'published')
     AND NOT privileged
     AND NOT EXISTS (SELECT 1 FROM public.compliance_events c
                      WHERE c.subject_id = NEW.id AND c.event_type = 'disclosure'
                        AND c.status = 'approved'
                        AND coalesce(c.payload -> 'content_rev', '1'::jsonb)
                            = to_jsonb(NEW.content_rev)) THEN
    RAISE EXCEPTION 'publishing template % needs an approved disclosure review of revision %',
      NEW.id, NEW.content_rev USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_template ON public.template_shares;
CREATE TRIGGER guard_template BEFORE INSERT OR UPDATE ON public.template_shares
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_template();

-- -- grants: reset, then exactly what users need ----------------------------------------
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['profiles', 'strategies', 'strategy_versions', 'backtest_runs',
                           'paper_trade_runs', 'paper_fills', 'paper_ticks', 'template_shares',
                           'compliance_events', 'audit_log', 'notifications', 'plan_usage',
                           'exchange_keys', 'key_access_log', 'plan_limits']
  LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC, anon, authenticated', t);
    EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
    EXECUTE format('GRANT SELECT ON public.%I TO authenticated', t);
  END LOOP;
END
$$;
GRANT SELECT ON public.template_shares TO anon;
GRANT INSERT, DELETE ON public.strategies, public.backtest_runs, public.paper_trade_runs,
  public.notifications, public.exchange_keys TO authenticated;
GRANT UPDATE ON public.strategies, public.backtest_runs, public.paper_trade_runs,
  public.notifications, public.exchange_keys TO authenticated;
GRANT INSERT, DELETE ON public.strategy_versions TO authenticated;  -- versions are immutable
GRANT INSERT ON public.profiles, public.compliance_events TO authenticated;
GRANT UPDATE (display_name, email, last_active_at, notification_settings, updated_at)
  ON public.profiles TO authenticated;
GRANT UPDATE ON public.compliance_events TO authenticated;  -- admins only (policy)
GRANT INSERT, DELETE ON public.template_shares TO authenticated;
GRANT UPDATE (strategy_version_id, title, metadata, audience, cohort_id, status,
              updated_at, published_at, content_rev) ON public.template_shares TO authenticated;

-- -- policies -------------------------------------------------------------------------
-- Ledgers: no user INSERT/UPDATE/DELETE policy at all (and no grant).
DO $$
DECLARE t text; p text;
BEGIN
  FOREACH t IN ARRAY ARRAY['paper_fills', 'paper_ticks', 'audit_log', 'key_access_log',
                           'plan_usage']
  LOOP
    FOREACH p IN ARRAY ARRAY['owner_insert', 'owner_update', 'owner_delete']
    LOOP
      EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', p, t);
    END LOOP;
  END LOOP;
END
$$;

DROP POLICY IF EXISTS plan_limits_read ON public.plan_limits;
CREATE POLICY plan_limits_read ON public.plan_limits FOR SELECT TO authenticated USING (true);

DROP POLICY IF EXISTS owner_delete ON public.profiles;
DROP POLICY IF EXISTS owner_insert ON public.profiles;
CREATE POLICY owner_insert ON public.profiles FOR INSERT TO authenticated
  WITH CHECK (id = (SELECT auth.uid())
              AND role = public.workbench_claimed_role()
              AND plan_tier = public.workbench_claimed_plan()
              AND cohorts = '[]'::jsonb);

DROP POLICY IF EXISTS owner_insert ON public.strategy_versions;
CREATE POLICY owner_insert ON public.strategy_versions FOR INSERT TO authenticated
  WITH CHECK ((owner_id = (SELECT auth.uid()) OR public.workbench_is_admin())
              AND public.workbench_owns_strategy(strategy_id));
DROP POLICY IF EXISTS owner_update ON public.strategy_versions;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['backtest_runs', 'paper_trade_runs']
  LOOP
    EXECUTE format('DROP POLICY IF EXISTS owner_insert ON public.%I', t);
    EXECUTE format('CREATE POLICY owner_insert ON public.%I FOR INSERT TO authenticated '
                   'WITH CHECK ((owner_id = (SELECT auth.uid()) OR public.workbench_is_admin()) '
                   'AND public.workbench_owns_strategy(strategy_id) '
                   'AND public.workbench_owns_version(strategy_version_id))', t);
    EXECUTE format('DROP POLICY IF EXISTS owner_update ON public.%I', t);
    EXECUTE format('CREATE POLICY owner_update ON public.%I FOR UPDATE TO authenticated '
                   'USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin()) '
                   'WITH CHECK ((owner_id = (SELECT auth.uid()) OR public.workbench_is_admin()) '
                   'AND public.workbench_owns_strategy(strategy_id) '
                   'AND public.workbench_owns_version(strategy_version_id))', t);
  END LOOP;
END
$$;

-- Templates: of one's own version, no notebook path (the server stores notebooks).
DROP POLICY IF EXISTS owner_insert ON public.template_shares;
CREATE POLICY owner_insert ON public.template_shares FOR INSERT TO authenticated
  WITH CHECK (public.workbench_is_admin()
              OR (educator_id = (SELECT auth.uid()) AND notebook_path IS NULL
                  AND status = 'pending_review'
                  AND public.workbench_owns_version(strategy_version_id)));
DROP POLICY IF EXISTS owner_update ON public.template_shares;
CREATE POLICY owner_update ON public.template_shares FOR UPDATE TO authenticated
  USING (educator_id = (SELECT auth.uid()) OR public.workbench_is_admin())
  WITH CHECK (public.workbench_is_admin()
              OR (educator_id = (SELECT auth.uid())
                  AND public.workbench_owns_version(strategy_version_id)));

-- Reviews: filed open, about one's own subject and its current revision; decided and
-- removed by admins only.
DROP POLICY IF EXISTS owner_insert ON public.compliance_events;
CREATE POLICY owner_insert ON public.compliance_events FOR INSERT TO authenticated
  WITH CHECK (public.workbench_is_admin()
              OR (created_by = (SELECT auth.uid()) AND status = 'open'
                  AND reviewer_id IS NULL AND resolved_at IS NULL
                  AND public.workbench_owns_subject(subject_type, subject_id)
                  AND (subject_type <> 'template'
                       OR public.workbench_review_matches(subject_id, payload))));
DROP POLICY IF EXISTS owner_delete ON public.compliance_events;
CREATE POLICY owner_delete ON public.compliance_events FOR DELETE TO authenticated
  USING (public.workbench_is_admin());
GRANT DELETE ON public.compliance_events TO authenticated;

-- -- functions: fixed search_path, EXECUTE only where meant -------------------------------
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'workbench\_%'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %L', f, '');
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon, authenticated', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f);
  END LOOP;
END
$$;
-- used inside policies, evaluated as the caller
GRANT EXECUTE ON FUNCTION public.workbench_is_admin(), public.workbench_is_trusted()
  TO anon, authenticated;
GRANT EXECUTE ON FUNCTION public.workbench_claimed_role(), public.workbench_claimed_plan(),
  public.workbench_owns_strategy(uuid), public.workbench_owns_version(uuid),
  public.workbench_owns_subject(text, uuid), public.workbench_review_matches(uuid, jsonb)
  TO authenticated;
-- the RPCs a signed-in user calls
GRANT EXECUTE ON FUNCTION
  public.workbench_consume_quota(uuid, text, integer, timestamptz, timestamptz, integer),
  public.workbench_increment_clone_count(uuid),
  public.workbench_audit_append(text, text, text, jsonb, uuid),
  public.workbench_log_key_access(uuid, text, text)
  TO authenticated;

-- -- linter auth_rls_initplan: auth.uid() once per statement, not once per row ---------
DO $$
DECLARE
  pol record;
  fix text := '(?<!SELECT )auth\.uid\(\)';
  q text;
  c text;
BEGIN
  FOR pol IN SELECT tablename, policyname, qual, with_check FROM pg_policies
              WHERE schemaname = 'public'
                AND (qual ~ fix OR with_check ~ fix)
  LOOP
    q := regexp_replace(pol.qual, fix, '(SELECT auth.uid())', 'g');
    c := regexp_replace(pol.with_check, fix, '(SELECT auth.uid())', 'g');
    IF q IS NOT NULL THEN
      EXECUTE format('ALTER POLICY %I ON public.%I USING (%s)', pol.policyname, pol.tablename, q);
    END IF;
    IF c IS NOT NULL THEN
      EXECUTE format('ALTER POLICY %I ON public.%I WITH CHECK (%s)', pol.policyname,
                     pol.tablename, c);
    END IF;
  END LOOP;
END
$$;
