-- Account status (issue #15): every profile is 'active' (the default) or 'suspended'.
--
-- Who changes it: the service role (or a direct connection) and admins (JWT
-- app_metadata.role = 'admin'), never for their own account; nobody else, whatever they
-- send (column grant + the guard trigger below, like role changes in 0006/0010).
-- A status change bumps token_version and tokens_valid_after like a role change does
-- (the 0010 trigger, extended here): every personal token and every JWT of that user
-- issued before stops working at once; an account made active again signs in anew.
--
-- What a suspended user may still do under RLS (their JWT stays valid until it expires,
-- as with a Supabase ban; the workbench server refuses it at once with 401):
--   * read what they could read before (their own rows);
--   * write nothing: a RESTRICTIVE policy on INSERT, UPDATE and DELETE of every public
--     table refuses a suspended caller (no new tokens, records, reviews, settings).
-- Idempotent: safe to run again by hand.

ALTER TABLE public.profiles
  ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active';
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'profiles_status_check'
                  AND conrelid = 'public.profiles'::regclass) THEN
    ALTER TABLE public.profiles ADD CONSTRAINT profiles_status_check
      CHECK (status IN ('active', 'suspended'));
  END IF;
END
$$;
CREATE INDEX IF NOT EXISTS profiles_suspended_idx ON public.profiles (id)
  WHERE status = 'suspended';

-- -- helpers ---------------------------------------------------------------------------
-- Is the caller allowed to write: trusted, or a signed-in user whose profile is not
-- suspended (no profile yet: active). SECURITY DEFINER so it reads the caller's profile
-- whatever the profiles policies say; it answers for the caller only.
CREATE OR REPLACE FUNCTION public.workbench_caller_active() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT public.workbench_is_trusted()
      OR NOT EXISTS (SELECT 1 FROM public.profiles p
                      WHERE p.id = auth.uid() AND p.status = 'suspended')
$$;

-- -- guards ----------------------------------------------------------------------------
-- Only the service or an admin changes a status, and an admin not their own (a suspended
-- admin whose JWT still says admin cannot lift their own suspension). A new profile made
-- by a user starts active.
CREATE OR REPLACE FUNCTION public.workbench_guard_account_status() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF public.workbench_is_trusted() THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status IS DISTINCT FROM 'active' THEN
      RAISE EXCEPTION 'a new profile starts active' USING ERRCODE = '42501';
    END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT public.workbench_is_admin() THEN
      RAISE EXCEPTION 'only an admin may change an account status' USING ERRCODE = '42501';
    END IF;
    IF NEW.id = auth.uid() OR OLD.id = auth.uid() THEN
      RAISE EXCEPTION 'nobody changes the status of their own account'
        USING ERRCODE = '42501';
    END IF;
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_account_status ON public.profiles;
CREATE TRIGGER guard_account_status BEFORE INSERT OR UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_account_status();

-- 0010's trigger, now for a status change as well: a change of role or status bumps the
-- token version (and the valid-after time) when the writer did not.
CREATE OR REPLACE FUNCTION public.workbench_guard_token_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF NEW.token_version < OLD.token_version
     OR (OLD.tokens_valid_after IS NOT NULL
         AND (NEW.tokens_valid_after IS NULL OR NEW.tokens_valid_after < OLD.tokens_valid_after)) THEN
    RAISE EXCEPTION 'token_version and tokens_valid_after never go back' USING ERRCODE = '42501';
  END IF;
  IF (NEW.role IS DISTINCT FROM OLD.role OR NEW.status IS DISTINCT FROM OLD.status)
     AND NEW.token_version = OLD.token_version THEN
    NEW.token_version := OLD.token_version + 1;
    NEW.tokens_valid_after := greatest(coalesce(OLD.tokens_valid_after, now()), now());
  END IF;
  RETURN NEW;
END
$$;

-- -- grants and policies ---------------------------------------------------------------
-- An admin's JWT may write the column (the trigger refuses everyone else).
GRANT UPDATE (status) ON public.profiles TO authenticated;

-- A suspended caller writes nothing: restrictive policies AND with every permissive one
-- (the check in a SELECT: once per statement, not per row, as the linter asks).
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
  LOOP
    EXECUTE format('DROP POLICY IF EXISTS active_insert ON public.%I', t);
    EXECUTE format('CREATE POLICY active_insert ON public.%I AS RESTRICTIVE FOR INSERT '
                   'TO authenticated WITH CHECK ((SELECT public.workbench_caller_active()))', t);
    EXECUTE format('DROP POLICY IF EXISTS active_update ON public.%I', t);
    EXECUTE format('CREATE POLICY active_update ON public.%I AS RESTRICTIVE FOR UPDATE '
                   'TO authenticated USING ((SELECT public.workbench_caller_active())) '
                   'WITH CHECK ((SELECT public.workbench_caller_active()))', t);
    EXECUTE format('DROP POLICY IF EXISTS active_delete ON public.%I', t);
    EXECUTE format('CREATE POLICY active_delete ON public.%I AS RESTRICTIVE FOR DELETE '
                   'TO authenticated USING ((SELECT public.workbench_caller_active()))', t);
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION public.workbench_guard_account_status() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.workbench_guard_token_version() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.workbench_caller_active() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.workbench_caller_active() TO authenticated, service_role;
