-- Tables of the workbench records (entities from the seeds' data models).
-- Every user table carries an owner column so one RLS rule (owner = auth.uid()) covers it.

CREATE OR REPLACE FUNCTION public.workbench_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TABLE IF NOT EXISTS public.profiles (
  id uuid PRIMARY KEY,                      -- = auth.users.id on Supabase
  email text UNIQUE,
  display_name text NOT NULL DEFAULT '',
  role text NOT NULL DEFAULT 'builder' CHECK (role IN ('builder', 'educator', 'admin')),
  plan_tier text NOT NULL DEFAULT 'free' CHECK (plan_tier IN ('free', 'premium', 'educator')),
  cohorts jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_active_at timestamptz
);

CREATE TABLE IF NOT EXISTS public.strategies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  name text NOT NULL,
  slug text NOT NULL,
  description text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'cohort', 'public')),
  tags jsonb NOT NULL DEFAULT '[]',
  source_template_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_id, slug)
);

CREATE TABLE IF NOT EXISTS public.strategy_versions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  strategy_id uuid NOT NULL REFERENCES public.strategies(id) ON DELETE CASCADE,
  owner_id uuid NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  graph jsonb NOT NULL,
  notes text NOT NULL DEFAULT '',
  author_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (strategy_id, version)
);

CREATE TABLE IF NOT EXISTS public.backtest_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  strategy_id uuid REFERENCES public.strategies(id) ON DELETE CASCADE,
  strategy_version_id uuid REFERENCES public.strategy_versions(id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  parameters jsonb NOT NULL DEFAULT '{}',
  metrics jsonb,
  provenance jsonb NOT NULL DEFAULT '{}',
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS backtest_runs_by_strategy_idx ON public.backtest_runs (strategy_id, created_at DESC);
CREATE INDEX IF NOT EXISTS backtest_runs_by_owner_idx ON public.backtest_runs (owner_id, created_at DESC);

CREATE TABLE IF NOT EXISTS public.paper_trade_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  strategy_id uuid REFERENCES public.strategies(id) ON DELETE CASCADE,
  strategy_version_id uuid REFERENCES public.strategy_versions(id) ON DELETE CASCADE,
  name text NOT NULL DEFAULT '',
  symbol text NOT NULL,
  timeframe text NOT NULL,
  schedule text NOT NULL DEFAULT '*/5 * * * *',
  status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'active', 'paused', 'stopped')),
  parameters jsonb NOT NULL DEFAULT '{}',
  alert_config jsonb NOT NULL DEFAULT '{}',
  performance_snapshot jsonb,
  state jsonb NOT NULL DEFAULT '{}',
  last_execution_at timestamptz,
  last_bar_ts timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS paper_trade_runs_by_strategy_idx ON public.paper_trade_runs (strategy_id);
CREATE INDEX IF NOT EXISTS paper_trade_runs_by_status_idx ON public.paper_trade_runs (status, owner_id);

CREATE TABLE IF NOT EXISTS public.paper_fills (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES public.paper_trade_runs(id) ON DELETE CASCADE,
  owner_id uuid NOT NULL,
  bar_ts timestamptz NOT NULL,
  seq integer NOT NULL DEFAULT 0,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  price double precision NOT NULL,
  quantity double precision NOT NULL,
  fee double precision NOT NULL DEFAULT 0,
  reason text NOT NULL DEFAULT '',
  info jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, bar_ts, seq)
);

CREATE TABLE IF NOT EXISTS public.paper_ticks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES public.paper_trade_runs(id) ON DELETE CASCADE,
  owner_id uuid NOT NULL,
  bar_ts timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  notebook_path text,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (run_id, bar_ts)
);

CREATE TABLE IF NOT EXISTS public.template_shares (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  strategy_version_id uuid NOT NULL REFERENCES public.strategy_versions(id) ON DELETE CASCADE,
  educator_id uuid NOT NULL,
  title text NOT NULL DEFAULT '',
  audience text NOT NULL DEFAULT 'public' CHECK (audience IN ('cohort', 'public')),
  cohort_id text,
  metadata jsonb NOT NULL DEFAULT '{}',
  notebook_path text,
  status text NOT NULL DEFAULT 'pending_review'
    CHECK (status IN ('pending_review', 'published', 'rejected', 'taken_down')),
  clone_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  CHECK (audience = 'public' OR cohort_id IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS template_shares_gallery_idx ON public.template_shares (status, audience);

CREATE TABLE IF NOT EXISTS public.compliance_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_type text NOT NULL CHECK (event_type IN ('disclosure', 'risk_review', 'takedown', 'audit')),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'rejected', 'escalated')),
  subject_type text NOT NULL DEFAULT 'template'
    CHECK (subject_type IN ('strategy', 'template', 'cohort', 'notification')),
  subject_id uuid,
  created_by uuid NOT NULL,
  reviewer_id uuid,
  reason text,
  payload jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);
CREATE INDEX IF NOT EXISTS compliance_events_queue_idx ON public.compliance_events (status, created_at);
CREATE INDEX IF NOT EXISTS compliance_events_subject_idx ON public.compliance_events (subject_type, subject_id);

CREATE TABLE IF NOT EXISTS public.audit_log (
  id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  seq bigint PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT now(),
  actor_id uuid,
  action text NOT NULL,
  entity_type text NOT NULL DEFAULT '',
  entity_id text,
  details jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash text NOT NULL
);

CREATE TABLE IF NOT EXISTS public.notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  type text NOT NULL CHECK (type IN ('backtest_complete', 'paper_trade_alert', 'governance_task', 'system')),
  channel text NOT NULL DEFAULT 'in_app' CHECK (channel IN ('in_app', 'email', 'webhook')),
  title text NOT NULL DEFAULT '',
  payload jsonb NOT NULL DEFAULT '{}',
  read_at timestamptz,
  delivery_status text NOT NULL DEFAULT 'pending'
    CHECK (delivery_status IN ('pending', 'delivered', 'failed', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notifications_unread_idx ON public.notifications (user_id, created_at DESC)
  WHERE read_at IS NULL;
CREATE INDEX IF NOT EXISTS notifications_by_user_idx ON public.notifications (user_id, created_at DESC);

CREATE TABLE IF NOT EXISTS public.plan_usage (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  metric text NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
  plan_limit integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, metric, window_start)
);
CREATE INDEX IF NOT EXISTS plan_usage_lookup_idx ON public.plan_usage (user_id, metric, window_start DESC);

CREATE TABLE IF NOT EXISTS public.exchange_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  exchange text NOT NULL,
  label text NOT NULL DEFAULT '',
  hint text NOT NULL,
  ciphertext text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX IF NOT EXISTS exchange_keys_owner_idx ON public.exchange_keys (owner_id);

CREATE TABLE IF NOT EXISTS public.key_access_log (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key_id uuid NOT NULL,
  owner_id uuid NOT NULL,
  actor_id uuid,
  action text NOT NULL CHECK (action IN ('created', 'decrypted', 'removed')),
  purpose text NOT NULL DEFAULT '',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS key_access_log_key_idx ON public.key_access_log (key_id, at DESC);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['profiles', 'strategies', 'backtest_runs', 'paper_trade_runs',
                           'template_shares', 'compliance_events', 'notifications',
                           'plan_usage', 'exchange_keys']
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS set_updated_at ON public.%I', t);
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.%I '
                   'FOR EACH ROW EXECUTE FUNCTION public.workbench_set_updated_at()', t);
  END LOOP;
END
$$;
