-- Paper runs over a universe (issue #16): a fill names the symbol it traded. Fills written
-- before carry NULL (their run's one symbol; the ledger is never rewritten). The ledger
-- stays as 0004/0006 left it: append-only, written by the service role, each owner reads
-- only the fills of their own runs (the table-level grants and the owner policy cover
-- the new column).
-- Idempotent: safe to run again by hand.

ALTER TABLE public.paper_fills ADD COLUMN IF NOT EXISTS symbol text;

CREATE INDEX IF NOT EXISTS paper_fills_by_run_symbol_idx ON public.paper_fills (run_id, symbol);
