-- Scalar helpers for normalise.sql, created once per in-memory normaliser connection.
--
-- DuckDB expands macros inline and does not share work between the branches of a CASE, so helpers
-- that used one argument several times cast it several times per row. The helpers take the leaf's
-- text `v` together with `d`, its `try_cast(v as double)`, which normalize.sql computes once per leaf
-- in a column of its own.

-- A number from a JSON leaf read as text (d = try_cast(text as double)); null when absent or not finite.
create or replace temp macro pl_num(d) as (
    case when isfinite(d) then d end
);

-- What is wrong with a token count, or null when it is absent or a whole, non-negative number.
create or replace temp macro pl_token_problem(v, d) as (
    case
        when v is null then null
        when d is null or not isfinite(d) then 'non-numeric'
        when d < 0 then 'negative'
        when d <> floor(d) then 'non-integer'
        when d > 9.0e15 then 'out-of-range'
    end
);

-- A valid token count as BIGINT (null when absent or invalid: invalid ones are dead-lettered).
create or replace temp macro pl_tok(v, d) as (
    case when pl_token_problem(v, d) is null then try_cast(d as bigint) end
);

-- Unix seconds (milliseconds above 1e11) or ISO 8601 text to a UTC timestamptz.
-- Accepts `Z`, an offset, both (`+00:00Z`), a space separator and naive values (taken as UTC).
create or replace temp macro pl_ts_parse(v, d) as (
    case
        when v is null or trim(v) = '' then null
        when isfinite(d) then try(to_timestamp(case when d > 1e11 then d / 1000.0 else d end))
        else try_cast(regexp_replace(trim(v), '([+-]\d{2}:?\d{2})[Zz]$', '\1') as timestamptz)
    end
);

-- A usable timestamp (p from pl_ts_parse): between 2000 and 2100 (anything else is a unit or clock error).
create or replace temp macro pl_ts(p) as (
    case when p >= timestamptz '2000-01-01' and p < timestamptz '2100-01-01' then p end
);

-- True when a leaf read as text held a JSON object or array (json_transform gives its JSON text).
create or replace temp macro pl_structured(x) as (
    starts_with(x, '{') or starts_with(x, '[')
);

-- True when a text value looks like a credential: a bearer token, an `sk-` key, a key or token query
-- parameter, a password in a URL. The cheap `contains` tests keep the regular expression off most rows.
create or replace temp macro pl_credential(x) as (
    (contains(x, 'sk-') or contains(x, '=') or contains(x, '://') or x ilike '%bearer%')
    and regexp_matches(x, $credential_pattern)
);

-- A scalar text value, or null when it is blank or held an object or array (scalars are scalars);
-- coalesce(pl_text(a), pl_text(b), ...) is the first usable value of a list.
create or replace temp macro pl_text(x) as (
    case when not pl_structured(x) then nullif(trim(x), '') end
);

-- A kept text value, or null when it looks like a credential (applied once to each output column).
create or replace temp macro pl_scrub(x) as (
    case when not pl_credential(x) then x end
);

-- Truthiness of an acceptance flag: booleans, 1/0, "true"/"yes".
create or replace temp macro pl_flag(v) as (
    case when lower(trim(v)) in ('true', '1', '1.0', 'yes', 'y', 't') then 1 else 0 end
);
