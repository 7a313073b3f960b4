-- Helpers for policies, and the atomic steps every client calls (service role and users).

-- Admin = role claim in the JWT (app_metadata.role = 'admin'; users cannot edit app_metadata).
CREATE OR REPLACE FUNCTION public.workbench_is_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;

-- True for trusted callers: a request with the service_role JWT, or a direct database
-- connection (no JWT at all, not acting as anon/authenticated), e.g. the postgres backend.
-- Judged by the JWT, not current_user, so it also holds inside SECURITY DEFINER functions.
CREATE OR REPLACE FUNCTION public.workbench_is_trusted() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(auth.role(), '') = 'service_role'
      OR (coalesce(auth.role(), '') = '' AND current_user NOT IN ('anon', 'authenticated'))
$$;

-- Check-and-count in one statement: returns the updated row, or nothing when it would exceed.
-- SECURITY DEFINER so users cannot write plan_usage directly (they only read it); a user may
-- only count against their own id.
CREATE OR REPLACE FUNCTION public.workbench_consume_quota(
  p_user_id uuid, p_metric text, p_limit integer, p_window_start timestamptz,
  p_window_end timestamptz, p_amount integer DEFAULT 1)
RETURNS SETOF public.plan_usage
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF NOT public.workbench_is_trusted() AND p_user_id IS DISTINCT FROM auth.uid() THEN
    RAISE EXCEPTION 'quota of another user' USING ERRCODE = '42501';
  END IF;
  INSERT INTO public.plan_usage (user_id, metric, window_start, window_end, used, plan_limit)
  VALUES (p_user_id, p_metric, p_window_start, p_window_end, 0, p_limit)
  ON CONFLICT (user_id, metric, window_start) DO NOTHING;
  RETURN QUERY
    UPDATE public.plan_usage
       SET used = used + p_amount, plan_limit = p_limit
     WHERE user_id = p_user_id AND metric = p_metric AND window_start = p_window_start
       AND used + p_amount <= p_limit
    RETURNING *;
END
$$;

-- Students cannot update an educator's template row, so the clone counter is a function.
CREATE OR REPLACE FUNCTION public.workbench_increment_clone_count(p_template_id uuid)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  UPDATE public.template_shares SET clone_count = clone_count + 1
   WHERE id = p_template_id AND status = 'published'
  RETURNING clone_count
$$;

-- Users cannot raise their own role or plan; admins and trusted connections can.
CREATE OR REPLACE FUNCTION public.workbench_guard_profile() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT public.workbench_is_trusted() AND NOT public.workbench_is_admin()
     AND (NEW.role IS DISTINCT FROM OLD.role OR NEW.plan_tier IS DISTINCT FROM OLD.plan_tier) THEN
    RAISE EXCEPTION 'only an admin may change role or plan_tier' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_profile ON public.profiles;
CREATE TRIGGER guard_profile BEFORE UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_profile();

-- A template goes public only with an approved disclosure review (users cannot skip it).
CREATE OR REPLACE FUNCTION public.workbench_guard_template() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'published' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'published')
     AND NOT public.workbench_is_trusted() AND NOT public.workbench_is_admin()
     AND NOT EXISTS (SELECT 1 FROM public.compliance_events c
                      WHERE c.subject_id = NEW.id AND c.event_type = 'disclosure'
                        AND c.status = 'approved') THEN
    RAISE EXCEPTION 'publishing template % needs an approved disclosure review', NEW.id
      USING ERRCODE = '42501';
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.clone_count IS DISTINCT FROM OLD.clone_count
     AND NOT public.workbench_is_trusted() AND current_user IN ('anon', 'authenticated') THEN
    RAISE EXCEPTION 'clone_count changes only through workbench_increment_clone_count'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_template ON public.template_shares;
CREATE TRIGGER guard_template BEFORE INSERT OR UPDATE ON public.template_shares
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_template();

REVOKE ALL ON FUNCTION public.workbench_consume_quota(uuid, text, integer, timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.workbench_consume_quota(uuid, text, integer, timestamptz, timestamptz, integer)
  TO authenticated, service_role;
REVOKE ALL ON FUNCTION public.workbench_increment_clone_count(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.workbench_increment_clone_count(uuid) TO authenticated, service_role;
