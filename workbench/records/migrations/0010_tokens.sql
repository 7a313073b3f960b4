-- Revocable credentials (issue #15): personal API tokens, and revocation of Supabase JWTs.
--
-- profiles.token_version counts revocations of everything a user holds: a bump (role
-- change, "sign out everywhere") refuses every JWT issued (iat) before
-- profiles.tokens_valid_after and every personal token made under an older version.
-- revoked_tokens is the deny-list of single JWTs (by jti). api_tokens holds personal
-- tokens as sha256 hashes; the secret itself is shown once and stored nowhere.
--
-- What a signed-in user may do here (RLS + column grants + triggers):
--   api_tokens:     read their own; create their own (version, times and revocation set
--                   by the database, lifetime at most 366 days); revoke their own (set
--                   revoked_at once, never unset); nothing else, no delete. Admins read
--                   and revoke anyone's, and create none for others.
--   revoked_tokens: read and add their own (admins: anyone's); never change or delete.
--   profiles:       token_version / tokens_valid_after only through
--                   workbench_sign_out_everywhere(); for everyone they only ever grow.
-- Idempotent: safe to run again by hand.

ALTER TABLE public.profiles
  ADD COLUMN IF NOT EXISTS token_version integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS tokens_valid_after timestamptz;

CREATE TABLE IF NOT EXISTS public.api_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL REFERENCES public.profiles(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix text NOT NULL UNIQUE CHECK (prefix ~ '^wbt_[A-Za-z0-9]{8}$'),
  token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  hint text NOT NULL,
  token_version integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_tokens_by_owner_idx ON public.api_tokens (owner_id, created_at DESC);

CREATE TABLE IF NOT EXISTS public.revoked_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  jti text NOT NULL CHECK (length(jti) BETWEEN 1 AND 200),
  expires_at timestamptz,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, jti)
);

-- -- guards ------------------------------------------------------------------------------
-- Token versions and the valid-after time only grow, whoever writes; a role change bumps
-- them when the writer did not (an admin's UPDATE, a direct SQL fix).
CREATE OR REPLACE FUNCTION public.workbench_guard_token_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF NEW.token_version < OLD.token_version
     OR (OLD.tokens_valid_after IS NOT NULL
         AND (NEW.tokens_valid_after IS NULL OR NEW.tokens_valid_after < OLD.tokens_valid_after)) THEN
    RAISE EXCEPTION 'token_version and tokens_valid_after never go back' USING ERRCODE = '42501';
  END IF;
  IF NEW.role IS DISTINCT FROM OLD.role AND NEW.token_version = OLD.token_version THEN
    NEW.token_version := OLD.token_version + 1;
    NEW.tokens_valid_after := greatest(coalesce(OLD.tokens_valid_after, now()), now());
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_token_version ON public.profiles;
CREATE TRIGGER guard_token_version BEFORE UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_token_version();

-- A user's new token takes the profile's current version and the database's clock; a
-- revocation is final. The service (trusted) writes last_used_at.
CREATE OR REPLACE FUNCTION public.workbench_guard_api_token() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.revoked_at IS NOT NULL
     AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
    RAISE EXCEPTION 'a revoked token stays revoked' USING ERRCODE = '42501';
  END IF;
  IF public.workbench_is_trusted() THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.token_version := coalesce((SELECT p.token_version FROM public.profiles p
                                    WHERE p.id = NEW.owner_id), 0);
    NEW.created_at := now();
    NEW.last_used_at := NULL;
    NEW.revoked_at := NULL;
    IF NEW.expires_at <= now() OR NEW.expires_at > now() + interval '366 days' THEN
      RAISE EXCEPTION 'a token expires within 366 days' USING ERRCODE = '42501';
    END IF;
  ELSIF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
    NEW.revoked_at := now();
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS guard_api_token ON public.api_tokens;
CREATE TRIGGER guard_api_token BEFORE INSERT OR UPDATE ON public.api_tokens
  FOR EACH ROW EXECUTE FUNCTION public.workbench_guard_api_token();

-- "Sign out everywhere": the caller's own profile only; returns the new version.
CREATE OR REPLACE FUNCTION public.workbench_sign_out_everywhere()
RETURNS TABLE (new_version integer)
LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$
  UPDATE public.profiles
     SET token_version = token_version + 1,
         tokens_valid_after = greatest(coalesce(tokens_valid_after, now()), now())
   WHERE id = (SELECT auth.uid())
  RETURNING token_version
$$;

-- -- grants and policies -----------------------------------------------------------------
ALTER TABLE public.api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.revoked_tokens ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.api_tokens, public.revoked_tokens FROM PUBLIC, anon, authenticated;
GRANT ALL ON public.api_tokens, public.revoked_tokens TO service_role;
GRANT SELECT, INSERT ON public.api_tokens, public.revoked_tokens TO authenticated;
GRANT UPDATE (revoked_at) ON public.api_tokens TO authenticated;

-- Admins read and revoke anyone's tokens; nobody makes a token for someone else.
DROP POLICY IF EXISTS owner_select ON public.api_tokens;
CREATE POLICY owner_select ON public.api_tokens FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin());
DROP POLICY IF EXISTS owner_insert ON public.api_tokens;
CREATE POLICY owner_insert ON public.api_tokens FOR INSERT TO authenticated
  WITH CHECK (owner_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS owner_update ON public.api_tokens;
CREATE POLICY owner_update ON public.api_tokens FOR UPDATE TO authenticated
  USING (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin())
  WITH CHECK (owner_id = (SELECT auth.uid()) OR public.workbench_is_admin());

DROP POLICY IF EXISTS owner_select ON public.revoked_tokens;
CREATE POLICY owner_select ON public.revoked_tokens FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()) OR public.workbench_is_admin());
DROP POLICY IF EXISTS owner_insert ON public.revoked_tokens;
CREATE POLICY owner_insert ON public.revoked_tokens FOR INSERT TO authenticated
  WITH CHECK (user_id = (SELECT auth.uid()) OR public.workbench_is_admin());

REVOKE ALL ON FUNCTION public.workbench_guard_token_version() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.workbench_guard_api_token() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.workbench_sign_out_everywhere() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.workbench_sign_out_everywhere() TO authenticated, service_role;
