-- Scalar helpers for normalise.sql, created once per in-memory normaliser connection.

-- A number from a JSON leaf read as text; null when absent or not a finite number.
create or replace temp macro pl_num(v) as (
    case when isfinite(try_cast(v as double)) then try_cast(v as double) end
);

-- What is wrong with a token count, or null when it is absent or a whole, non-negative number.
create or replace temp macro pl_token_problem(v) as (
    case
        when v is null then null
        when try_cast(v as double) is null or not isfinite(try_cast(v as double)) then 'non-numeric'
        when try_cast(v as double) < 0 then 'negative'
        when try_cast(v as double) <> floor(try_cast(v as double)) then 'non-integer'
        when try_cast(v as double) > 9.0e15 then 'out-of-range'
    end
);

-- A valid token count as BIGINT (null when absent or invalid: invalid ones are dead-lettered).
create or replace temp macro pl_tok(v) as (
    case when pl_token_problem(v) is null then try_cast(try_cast(v as double) as bigint) end
);

-- Unix seconds (milliseconds above 1e11) or ISO 8601 text to a UTC timestamptz.
-- Accepts `Z`, an offset, both (`+00:00Z`), a space separator and naive values (taken as UTC).
create or replace temp macro pl_ts_parse(v) as (
    case
        when v is null or trim(v) = '' then null
        when pl_num(v) is not null
            then try(to_timestamp(case when pl_num(v) > 1e11 then pl_num(v) / 1000.0 else pl_num(v) end))
        else try_cast(regexp_replace(trim(v), '([+-]\d{2}:?\d{2})[Zz]$', '\1') as timestamptz)
    end
);

-- A usable timestamp: parsed, and between 2000 and 2100 (anything else is a unit or clock error).
create or replace temp macro pl_ts(v) as (
    case
        when pl_ts_parse(v) >= timestamptz '2000-01-01' and pl_ts_parse(v) < timestamptz '2100-01-01'
            then pl_ts_parse(v)
    end
);

-- First non-blank text value of a list.
create or replace temp macro pl_first(xs) as (
    list_filter(list_transform(xs, lambda x: nullif(trim(x), '')), lambda x: x is not null)[1]
);

-- Truthiness of an acceptance flag: booleans, 1/0, "true"/"yes".
create or replace temp macro pl_flag(v) as (
    case when lower(trim(v)) in ('true', '1', '1.0', 'yes', 'y', 't') then 1 else 0 end
);
