-- segq sql --dialect postgres (generated schema, --now 2026-03-15T13:45:30Z)

-- ==== segq sql --ddl
-- segq SQL layout for postgres: one row per contact / account; a missing value is NULL.
-- TIMESTAMP values are UTC.

CREATE TABLE accounts (
  id BIGINT NOT NULL,
  domain TEXT,
  employees BIGINT,
  industry TEXT,
  name TEXT,
  region TEXT,
  tier TEXT,
  PRIMARY KEY (id)
);

CREATE TABLE contacts (
  id BIGINT NOT NULL,
  account_id BIGINT,
  company_size BIGINT,
  created_at TIMESTAMP,
  email TEXT,
  first_name TEXT,
  industry TEXT,
  last_activity DATE,
  last_name TEXT,
  meetings_30d BIGINT,
  opens_30d BIGINT,
  opted_in BOOLEAN,
  region TEXT,
  replies_30d BIGINT,
  "role" TEXT,
  score BIGINT,
  seniority TEXT,
  stage TEXT,
  tags TEXT[],
  title TEXT,
  PRIMARY KEY (id)
);

-- ==== q1: enum list and int
-- role in [decision_maker, champion] and replies_30d > 2
SELECT c.id
FROM contacts AS c
WHERE c."role" IN ('decision_maker', 'champion') AND c.replies_30d > 2;

-- ==== q1 with --count
SELECT count(*)
FROM contacts AS c
WHERE c."role" IN ('decision_maker', 'champion') AND c.replies_30d > 2;

-- ==== q2: nesting; `not` of a nullable column
-- stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea
SELECT c.id
FROM contacts AS c
WHERE c.stage = 'opportunity'
  AND (c.seniority IN ('vp', 'c_level') OR c.meetings_30d >= 1)
  AND NOT (c.region IS NOT NULL AND c.region = 'emea');

-- ==== q3: range, relative date (rounded to whole days), substring, presence, duplicates
-- company_size between 200 and 5000 and last_activity within 30d and title contains "head of" and email is present and not email is duplicate
SELECT c.id
FROM contacts AS c
WHERE c.company_size BETWEEN 200 AND 5000
  AND c.last_activity BETWEEN DATE '2026-02-14' AND DATE '2026-03-15'
  AND strpos(lower(c.title), 'head of') > 0
  AND c.email IS NOT NULL
  AND NOT (
    c.id IN (
      SELECT d1.k
      FROM (
        SELECT d1.id AS k, count(*) OVER (PARTITION BY lower(btrim(d1.email, U&'\0009\000A\000B\000C\000D \0085\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009\200A\2028\2029\202F\205F\3000'))) AS n
        FROM contacts AS d1
        WHERE d1.email IS NOT NULL
      ) AS d1
      WHERE d1.n > 1
    )
  );

-- ==== q4: sets and an account field
-- tags has any [webinar, trial] and account.industry = software
SELECT c.id
FROM contacts AS c
WHERE c.tags && ARRAY['webinar', 'trial']::text[]
  AND c.account_id IN (
    SELECT a1.id
    FROM accounts AS a1
    WHERE a1.industry = 'software'
  );

-- ==== q5: account has; an ordered enum
-- account has (role = decision_maker and replies_30d > 0) and stage >= opportunity
SELECT c.id
FROM contacts AS c
WHERE c.account_id IN (
    SELECT c1.account_id
    FROM contacts AS c1
    WHERE c1.account_id IS NOT NULL
      AND c1."role" = 'decision_maker'
      AND c1.replies_30d > 0
  )
  AND c.stage IN ('opportunity', 'customer', 'churned');

-- ==== q6: a count that holds at zero
-- account count (replies_30d > 0) = 0
SELECT c.id
FROM contacts AS c
WHERE c.account_id IS NOT NULL AND c.account_id NOT IN (
    SELECT c1.account_id
    FROM contacts AS c1
    WHERE c1.account_id IS NOT NULL AND c1.replies_30d > 0
    GROUP BY c1.account_id
    HAVING count(*) <> 0
  );

-- ==== q7: a count that does not; has all under not
-- account count (role = champion) >= 2 and not tags has all [webinar, trial]
SELECT c.id
FROM contacts AS c
WHERE c.account_id IN (
    SELECT c1.account_id
    FROM contacts AS c1
    WHERE c1.account_id IS NOT NULL AND c1."role" = 'champion'
    GROUP BY c1.account_id
    HAVING count(*) >= 2
  )
  AND NOT (c.tags IS NOT NULL AND c.tags @> ARRAY['webinar', 'trial']::text[]);

-- ==== q8: regex, prefix and suffix
-- title matches "^(VP|Head) of\\b" and title starts_with "vp" or title ends_with "sales"
SELECT c.id
FROM contacts AS c
WHERE (c.title ~ '^(VP|Head) of\b' AND starts_with(lower(c.title), 'vp'))
  OR right(lower(c.title), 5) = 'sales';

-- ==== q9: !=, not in and not between require presence
-- role != champion and seniority not in [ic, manager] and score not between 10 and 20
SELECT c.id
FROM contacts AS c
WHERE c."role" IS NOT NULL
  AND NOT (c."role" = 'champion')
  AND c.seniority IS NOT NULL
  AND NOT (c.seniority IN ('ic', 'manager'))
  AND c.score IS NOT NULL
  AND NOT (c.score BETWEEN 10 AND 20);

-- ==== q10: date-times, dates, bools, has none
-- created_at > 2w ago and last_activity before 2026-01-01 and opted_in and tags has none [churn_risk]
SELECT c.id
FROM contacts AS c
WHERE c.created_at > TIMESTAMP '2026-03-01 13:45:30.000000'
  AND c.last_activity < DATE '2026-01-01'
  AND c.opted_in = TRUE
  AND coalesce(cardinality(c.tags), 0) > 0
  AND NOT ('churn_risk' = ANY(c.tags));

-- ==== q11: quoting
-- email is missing or title = "O'Neil \"Ops\" \\ lead" or title contains "100%_\n"
SELECT c.id
FROM contacts AS c
WHERE c.email IS NULL
  OR c.title = 'O''Neil "Ops" \ lead'
  OR strpos(lower(c.title), U&'100%_\000A') > 0;

-- ==== q12: account fields: ordered enum, int, duplicates; is missing
-- account.tier >= mid_market and account.employees > 1000 and account.domain is duplicate and not account.name is missing
SELECT c.id
FROM contacts AS c
WHERE c.account_id IN (
    SELECT a1.id
    FROM accounts AS a1
    WHERE a1.tier IN ('mid_market', 'enterprise')
      AND a1.employees > 1000
      AND a1.id IN (
        SELECT d2.k
        FROM (
          SELECT d2.id AS k, count(*) OVER (PARTITION BY lower(btrim(d2.domain, U&'\0009\000A\000B\000C\000D \0085\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009\200A\2028\2029\202F\205F\3000'))) AS n
          FROM accounts AS d2
          WHERE d2.domain IS NOT NULL
        ) AS d2
        WHERE d2.n > 1
      )
  )
  AND NOT (c.account_id IS NOT NULL AND c.account_id IN (SELECT a3.id FROM accounts AS a3 WHERE a3.name IS NULL));

-- ==== segq sql --segments (dependencies first)
CREATE OR REPLACE VIEW "decision_makers" AS
SELECT c.*
FROM contacts AS c
WHERE c."role" IN ('decision_maker', 'economic_buyer');

CREATE OR REPLACE VIEW "engaged" AS
SELECT c.*
FROM contacts AS c
WHERE c.replies_30d > 2 OR c.meetings_30d >= 1;

CREATE OR REPLACE VIEW "hot" AS
SELECT c.*
FROM contacts AS c
WHERE c.id IN (SELECT id FROM "decision_makers")
  AND c.id IN (SELECT id FROM "engaged")
  AND c.stage IN ('opportunity', 'customer', 'churned');

-- ==== load.sql written by segq export
-- Loads the CSV files written by `segq export --dialect postgres`.
-- Run: cd <this directory> && psql -v ON_ERROR_STOP=1 -f load.sql

-- (the CREATE TABLE statements above)

\copy accounts FROM 'accounts.csv' WITH (FORMAT csv, HEADER true)
\copy contacts FROM 'contacts.csv' WITH (FORMAT csv, HEADER true)
