"""The SQL that expands bench/generate.py's small tables into N cases and their histories.

Schema `bench_gen` holds what Python computed (templates, steps, where cases arise, the
working-day table) and the staged cases `bench_gen.c`; it is dropped at the end. Times are
epoch seconds and dates are day numbers (days since 1970-01-01) until the final INSERT:
integer arithmetic is what PostgreSQL does fastest, and Asia/Shanghai is UTC+8 all year.
Per-case random draws are made once, into `bench_gen.c`; an event's moment is a pure
function of (case, step, seed) (`bench_gen.moment`), so the case row, its events and its
slips agree without reading each other and are written by separate connections at once.
"""

SCHEMA = """
DROP SCHEMA IF EXISTS bench_gen CASCADE;
CREATE SCHEMA bench_gen;
CREATE UNLOGGED TABLE bench_gen.tmpl (
    t int PRIMARY KEY, rule_id int, level text, initial text, init_days int, bell_lead int,
    final text, resolution text, nsteps int, expired bool, cleared bool, is_open bool,
    payload json, dept text, last_mode text, last_src int, last_days int);
CREATE UNLOGGED TABLE bench_gen.step (
    t int, k int, n int, event text, from_state text, to_state text, actor text, slip text,
    conclusion text, comment text, due_mode text, src_k int, days int);
-- Where a case arises (region r) and who handles it there, per kind of department.
CREATE UNLOGGED TABLE bench_gen.place (
    r int, dept text, region_id int, unit_id int, handler_ids int[], handler_names text[],
    sup_id int, payer text, payees text[], PRIMARY KEY (r, dept));
-- due = the n-th working day after `day` (n = 0: the next working day), from the calendar;
-- month = the month of `due` (YYYYMM), for numbers.
CREATE UNLOGGED TABLE bench_gen.wd (day int, n int, due int, month int, PRIMARY KEY (day, n));
CREATE UNLOGGED TABLE bench_gen.months (day int PRIMARY KEY, month int);
-- The k-th of n moments in [start, start + span], jittered by a hash of the ids; never after as_of.
CREATE FUNCTION bench_gen.moment(start bigint, span float8, n int, id int, k int, seed int, as_of bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(as_of, start + floor(span * ((k - 0.95::float8) + 0.9::float8 *
        (((id::bigint * 2654435761 + k * 40503 + seed * 7919) % 1000003)::float8 / 1000003))
        / nullif(n, 0))::bigint)
$$;
-- A number in [0, 1) from a hash of (x, salt): repeatable choices for slips.
CREATE FUNCTION bench_gen.h(x bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((x * 2654435761 + salt * 40503) % 1000003)::float8 / 1000003
$$;
"""

# One row per case: every random draw, the template, place and handler, the raising moment,
# the duty deadline of bells, the first deadline and the window the later events fall in.
STAGE_CASES = """
SELECT setseed(%(setseed)s);
-- One process draws the numbers, so a seed gives the same data.
SET max_parallel_workers_per_gather = 0;
CREATE UNLOGGED TABLE bench_gen.c AS
WITH x AS (
    SELECT i AS id, width_bucket(random(), %(bounds)s::float8[]) AS t,
           floor(random() * %(regions)s)::int AS r, 1 + floor(random() * 3)::int AS h,
           random() AS u_recent, random() AS u_days, floor(random() * 36000)::int AS tod,
           random() AS u_amount, random() AS u_fund, random() AS u_doc, random() AS u_payee,
           random() AS u_account, random() AS u_paid, random() AS u_purpose
    FROM generate_series(1, %(n)s) i
), y AS (
    SELECT x.*, tm.level, tm.bell_lead, tm.init_days, tm.nsteps, tm.expired, tm.cleared, tm.dept,
           least(nw.due, %(today)s - 1) AS raised_day,
           CASE WHEN nw.due < %(today)s THEN nw.month ELSE %(yesterday_month)s END AS month
    FROM x JOIN bench_gen.tmpl tm USING (t)
    -- open cases lean recent; expired bells are old enough for their duty deadline to pass
    JOIN bench_gen.wd nw ON nw.n = 0 AND nw.day = %(today)s - CASE
        WHEN tm.expired THEN 14 + floor(x.u_days * 387)::int
        WHEN tm.is_open AND x.u_recent < 0.6 THEN 1 + floor(x.u_days * 20)::int
        ELSE 8 + floor(x.u_days * 393)::int END
), z AS (
    -- local 08:00 is 00:00 UTC: raised between 08:00 and 18:00 Shanghai time
    SELECT y.*, y.raised_day::bigint * 86400 + y.tod AS raised, dd.due AS duty_day
    FROM y LEFT JOIN bench_gen.wd dd
        ON y.level = 'yellow_bell' AND dd.day = y.raised_day AND dd.n = y.bell_lead
), w AS (
    SELECT z.*, d0.due AS due0,
           CASE WHEN z.expired THEN greatest(z.raised, (z.duty_day + 1)::bigint * 86400 - 28800 + 300)
                ELSE z.raised END AS ev_start,
           CASE WHEN z.cleared THEN least(%(as_of)s, z.duty_day::bigint * 86400 - 28800 + 17 * 3600)
                ELSE %(as_of)s END AS ev_end
    FROM z JOIN bench_gen.wd d0
        ON d0.n = CASE WHEN z.level = 'yellow_bell' THEN 0 ELSE z.init_days END
       AND d0.day = coalesce(z.duty_day, z.raised_day)
)
SELECT w.id, w.t, w.raised, w.raised_day, w.duty_day, w.due0, w.ev_start,
       greatest(w.ev_end - w.ev_start, 60 * (w.nsteps + 1))::float8 AS span, w.month,
       row_number() OVER (PARTITION BY w.month ORDER BY w.id) AS month_no,
       p.region_id, p.unit_id, p.handler_ids[w.h] AS handler_id, p.handler_names[w.h] AS handler_name,
       p.sup_id, p.payer, p.payees[1 + floor(w.u_payee * cardinality(p.payees))::int] AS payee,
       1 + floor(w.u_fund * %(nfunds)s)::int AS fund, 1 + floor(w.u_doc * 180)::int AS doc,
       floor(w.u_account * 1e17)::bigint AS account,
       floor(10 ^ (5 + 4.3 * w.u_amount))::bigint AS cents, floor(w.u_paid * 21)::int AS paid,
       1 + floor(w.u_purpose * %(npurposes)s)::int AS purpose
FROM w JOIN bench_gen.place p ON p.r = w.r AND p.dept = w.dept;
"""

CASES = """
INSERT INTO warning_case (id, number, rule_id, raised_level, state, region_id, org_unit_id,
    assignee_id, payload, source, external_id, raised_at, duty_due_on, due_on, entered_step_at,
    escalation_level, resolution, closed_at, version, created_at, updated_at, fund_name,
    indicator_doc_no, payer_name, payee_name, payee_account, amount, payment_date, purpose)
SELECT c.id, 'YJ-' || c.month || '-' || lpad(c.month_no::text, 6, '0'), tm.rule_id, tm.level,
       tm.final, c.region_id, c.unit_id, c.handler_id, tm.payload, 'bench',
       'B' || lpad(c.id::text, 9, '0'), to_timestamp(c.raised), date '1970-01-01' + c.duty_day,
       date '1970-01-01' + CASE tm.last_mode WHEN 'initial' THEN c.due0 WHEN 'calc' THEN wd.due END,
       to_timestamp(e.last_at), 0, tm.resolution,
       CASE WHEN tm.resolution IS NOT NULL THEN to_timestamp(e.last_at) END,
       tm.nsteps + 1, to_timestamp(c.raised), to_timestamp(e.last_at),
       (%(funds)s::text[])[c.fund], '豫财农〔2026〕' || c.doc || '号', c.payer, c.payee,
       '62' || lpad(c.account::text, 17, '0'), c.cents / 100.0,
       date '1970-01-01' + (c.raised_day - c.paid), (%(purposes)s::text[])[c.purpose]
FROM bench_gen.c c JOIN bench_gen.tmpl tm ON tm.t = c.t
CROSS JOIN LATERAL (SELECT
    CASE WHEN tm.nsteps = 0 THEN c.raised ELSE
        bench_gen.moment(c.ev_start, c.span, tm.nsteps, c.id, tm.nsteps, %(seed)s, %(as_of)s) END AS last_at,
    bench_gen.moment(c.ev_start, c.span, tm.nsteps, c.id, tm.last_src, %(seed)s, %(as_of)s) AS src_at) e
LEFT JOIN bench_gen.wd wd ON tm.last_mode = 'calc' AND wd.n = tm.last_days
    AND wd.day = (e.src_at + 28800) / 86400;
"""

RAISE_EVENTS = """
INSERT INTO case_event (case_id, seq, event, from_state, to_state, actor_id, actor_role, at,
    due_on, data)
SELECT c.id, 1, 'raise', NULL, tm.initial, %(platform)s, 'integration', to_timestamp(c.raised),
       date '1970-01-01' + c.due0, tm.raise_data
FROM bench_gen.c c
JOIN (SELECT t, initial, ('{"level": "' || level || '"}')::json AS raise_data FROM bench_gen.tmpl) tm
    ON tm.t = c.t;
"""

STEP_EVENTS = """
INSERT INTO case_event (case_id, seq, event, from_state, to_state, actor_id, actor_role, at,
    comment, slip_id, due_on, data)
SELECT c.id, s.k + 1, s.event, s.from_state, s.to_state,
       CASE s.actor WHEN 'handler' THEN c.handler_id WHEN 'supervisor' THEN c.sup_id END,
       s.actor, to_timestamp(m.at), s.comment, CASE WHEN s.slip IS NOT NULL THEN c.id * 8 + s.k END,
       date '1970-01-01' + CASE s.due_mode WHEN 'initial' THEN c.due0 WHEN 'calc' THEN wd.due END,
       '{}'::json
FROM bench_gen.c c JOIN bench_gen.step s ON s.t = c.t
CROSS JOIN LATERAL (SELECT
    bench_gen.moment(c.ev_start, c.span, s.n, c.id, s.k, %(seed)s, %(as_of)s) AS at,
    bench_gen.moment(c.ev_start, c.span, s.n, c.id, s.src_k, %(seed)s, %(as_of)s) AS src_at) m
LEFT JOIN bench_gen.wd wd ON s.due_mode = 'calc' AND wd.n = s.days AND wd.day = (m.src_at + 28800) / 86400
WHERE c.id BETWEEN %(lo)s AND %(hi)s;
"""

# Every slip with its final values, once, for the three tables that need them. Slip ids
# are case id * 8 + step: the event rows know them without a lookup.
STAGE_SLIPS = """
CREATE UNLOGGED TABLE bench_gen.s AS
SELECT y.sid, y.case_id, y.kind, y.prefix, y.handler_id, y.handler_name, to_timestamp(y.at) AS at,
       dm.month, y.conclusion,
       CASE WHEN y.verify THEN (%(methods)s::json[])[1 + floor(bench_gen.h(y.sid, 1)
           * cardinality(%(methods)s::json[]))::int] ELSE '[]'::json END AS methods,
       CASE y.conclusion WHEN 'normal' THEN %(normal)s WHEN 'violation' THEN %(violation)s ELSE '' END AS findings,
       CASE WHEN y.conclusion = 'violation' THEN (%(violations)s::text[])[1 + floor(bench_gen.h(y.sid, 2)
           * cardinality(%(violations)s::text[]))::int] END AS violation_type,
       CASE WHEN y.conclusion = 'violation' THEN (2000 + floor(bench_gen.h(y.sid, 3) * 298000)::int)::numeric(18, 2)
           END AS amount_involved,
       CASE WHEN y.verify THEN '[]'::json WHEN y.recovered THEN '["corrected", "funds_recovered"]'::json
           ELSE '["corrected"]'::json END AS measures,
       CASE WHEN y.verify THEN '' WHEN y.recovered THEN %(recovered)s ELSE %(corrected)s END AS measures_detail,
       CASE WHEN y.recovered THEN (1000 + floor(bench_gen.h(y.sid, 5) * 199000)::int)::numeric(18, 2)
           END AS amount_recovered,
       CASE WHEN NOT y.verify THEN date '1970-01-01' + y.day END AS completed_on
FROM (
    SELECT c.id * 8 + s.k AS sid, c.id AS case_id, s.slip AS kind, s.slip = 'verification' AS verify,
           CASE s.slip WHEN 'verification' THEN 'HS' ELSE 'ZG' END AS prefix, s.conclusion,
           s.slip = 'rectification' AND bench_gen.h(c.id * 8 + s.k, 4) < 0.6 AS recovered,
           c.handler_id, c.handler_name, m.at, ((m.at + 28800) / 86400)::int AS day
    FROM bench_gen.c c JOIN bench_gen.step s ON s.t = c.t AND s.slip IS NOT NULL
    CROSS JOIN LATERAL (SELECT
        bench_gen.moment(c.ev_start, c.span, s.n, c.id, s.k, %(seed)s, %(as_of)s) AS at) m
) y
JOIN bench_gen.months dm ON dm.day = y.day;
"""

SLIPS = """
INSERT INTO slip (id, number, kind, version, filed_by_id, filed_at, updated_at, methods,
    findings, conclusion, violation_type, amount_involved, measures, measures_detail,
    amount_recovered, completed_on, filler_name, filler_phone)
SELECT sid, prefix || '-' || month || '-' || lpad(row_number() OVER (
           PARTITION BY prefix, month ORDER BY sid)::text, 6, '0'),
       kind, 1, handler_id, at, at, methods, findings, conclusion, violation_type,
       amount_involved, measures, measures_detail, amount_recovered, completed_on,
       handler_name, %(phone)s
FROM bench_gen.s;
"""

# The kept first version of every slip, as SlipInput.fields() would write it.
SLIP_VERSIONS = """
INSERT INTO slip_version (id, slip_id, version, fields, author_id, created_at)
SELECT sid, sid, 1, json_build_object('methods', methods, 'findings', findings,
           'conclusion', conclusion, 'violation_type', violation_type,
           'amount_involved', amount_involved::text, 'measures', measures,
           'measures_detail', measures_detail, 'amount_recovered', amount_recovered::text,
           'completed_on', completed_on, 'filler_name', handler_name, 'filler_phone', %(phone)s::text),
       handler_id, at
FROM bench_gen.s;
"""

CASE_SLIPS = """
INSERT INTO case_slip (case_id, slip_id) SELECT case_id, sid FROM bench_gen.s;
"""

COUNTERS = """
INSERT INTO case_number_counter (key, last)
SELECT 'YJ-' || month, max(month_no) FROM bench_gen.c GROUP BY month
UNION ALL
SELECT left(number, 9), max(right(number, 6)::int) FROM slip GROUP BY left(number, 9)
ON CONFLICT (key) DO UPDATE SET last = greatest(case_number_counter.last, EXCLUDED.last);
SELECT setval(pg_get_serial_sequence('warning_case', 'id'), greatest((SELECT max(id) FROM warning_case), 1));
SELECT setval(pg_get_serial_sequence('slip', 'id'), greatest((SELECT max(id) FROM slip), 1));
SELECT setval(pg_get_serial_sequence('slip_version', 'id'), greatest((SELECT max(id) FROM slip_version), 1));
"""
