-- segq sql --dialect clickhouse (generated schema, --now 2026-03-15T13:45:30Z)

-- ==== segq sql --ddl
-- segq SQL layout for clickhouse: one row per contact / account; a missing value is NULL.
-- set fields are Array(String); an empty array is a missing set.

CREATE TABLE accounts (
  id Int64,
  domain Nullable(String),
  employees Nullable(Int64),
  industry LowCardinality(Nullable(String)),
  name Nullable(String),
  region LowCardinality(Nullable(String)),
  tier LowCardinality(Nullable(String))
)
ENGINE = MergeTree
ORDER BY (id);

CREATE TABLE contacts (
  id Int64,
  account_id Nullable(Int64),
  company_size Nullable(Int64),
  created_at Nullable(DateTime64(6, 'UTC')),
  email Nullable(String),
  first_name Nullable(String),
  industry LowCardinality(Nullable(String)),
  last_activity Nullable(Date32),
  last_name Nullable(String),
  meetings_30d Nullable(Int64),
  opens_30d Nullable(Int64),
  opted_in Nullable(Bool),
  region LowCardinality(Nullable(String)),
  replies_30d Nullable(Int64),
  `role` LowCardinality(Nullable(String)),
  score Nullable(Int64),
  seniority LowCardinality(Nullable(String)),
  stage LowCardinality(Nullable(String)),
  tags Array(String),
  title Nullable(String)
)
ENGINE = MergeTree
ORDER BY (id);

-- ==== q1: enum list and int
-- role in [decision_maker, champion] and replies_30d > 2
SELECT c.id
FROM contacts AS c
WHERE c.`role` IN ('decision_maker', 'champion') AND c.replies_30d > 2;

-- ==== q1 with --count
SELECT count(*)
FROM contacts AS c
WHERE c.`role` IN ('decision_maker', 'champion') AND c.replies_30d > 2;

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
  AND c.last_activity BETWEEN toDate32('2026-02-14') AND toDate32('2026-03-15')
  AND position(lowerUTF8(c.title), 'head of') > 0
  AND c.email IS NOT NULL
  AND NOT (
    c.id IN (
      SELECT d1.k
      FROM (
        SELECT d1.id AS k, count(*) OVER (PARTITION BY lowerUTF8(replaceRegexpAll(d1.email, '^[\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+|[\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+$', ''))) AS n
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
WHERE hasAny(c.tags, ['webinar', 'trial'])
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
      AND c1.`role` = 'decision_maker'
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
    WHERE c1.account_id IS NOT NULL AND c1.`role` = 'champion'
    GROUP BY c1.account_id
    HAVING count(*) >= 2
  )
  AND NOT (hasAll(c.tags, ['webinar', 'trial']));

-- ==== q8: regex, prefix and suffix
-- title matches "^(VP|Head) of\\b" and title starts_with "vp" or title ends_with "sales"
SELECT c.id
FROM contacts AS c
WHERE (match(c.title, '^(VP|Head) of\\b') AND startsWith(lowerUTF8(c.title), 'vp'))
  OR endsWith(lowerUTF8(c.title), 'sales');

-- ==== q9: !=, not in and not between require presence
-- role != champion and seniority not in [ic, manager] and score not between 10 and 20
SELECT c.id
FROM contacts AS c
WHERE c.`role` IS NOT NULL
  AND NOT (c.`role` = 'champion')
  AND c.seniority IS NOT NULL
  AND NOT (c.seniority IN ('ic', 'manager'))
  AND c.score IS NOT NULL
  AND NOT (c.score BETWEEN 10 AND 20);

-- ==== q10: date-times, dates, bools, has none
-- created_at > 2w ago and last_activity before 2026-01-01 and opted_in and tags has none [churn_risk]
SELECT c.id
FROM contacts AS c
WHERE c.created_at > toDateTime64('2026-03-01 13:45:30.000000', 6, 'UTC')
  AND c.last_activity < toDate32('2026-01-01')
  AND c.opted_in = TRUE
  AND notEmpty(c.tags)
  AND NOT (has(c.tags, 'churn_risk'));

-- ==== q11: quoting
-- email is missing or title = "O'Neil \"Ops\" \\ lead" or title contains "100%_\n"
SELECT c.id
FROM contacts AS c
WHERE c.email IS NULL
  OR c.title = 'O\'Neil "Ops" \\ lead'
  OR position(lowerUTF8(c.title), '100%_\x0A') > 0;

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
          SELECT d2.id AS k, count(*) OVER (PARTITION BY lowerUTF8(replaceRegexpAll(d2.domain, '^[\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+|[\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]+$', ''))) AS n
          FROM accounts AS d2
          WHERE d2.domain IS NOT NULL
        ) AS d2
        WHERE d2.n > 1
      )
  )
  AND NOT (c.account_id IS NOT NULL AND c.account_id IN (SELECT a3.id FROM accounts AS a3 WHERE a3.name IS NULL));

-- ==== segq sql --segments (dependencies first)
CREATE OR REPLACE VIEW `decision_makers` AS
SELECT c.*
FROM contacts AS c
WHERE c.`role` IN ('decision_maker', 'economic_buyer');

CREATE OR REPLACE VIEW `engaged` AS
SELECT c.*
FROM contacts AS c
WHERE c.replies_30d > 2 OR c.meetings_30d >= 1;

CREATE OR REPLACE VIEW `hot` AS
SELECT c.*
FROM contacts AS c
WHERE c.id IN (SELECT id FROM `decision_makers`)
  AND c.id IN (SELECT id FROM `engaged`)
  AND c.stage IN ('opportunity', 'customer', 'churned');

-- ==== load.sql written by segq export
-- Loads the CSV files written by `segq export --dialect clickhouse`.
-- Run: cd <this directory> && clickhouse-client --multiquery < load.sql

-- (the CREATE TABLE statements above)

INSERT INTO accounts FROM INFILE 'accounts.csv' FORMAT CSVWithNames;
INSERT INTO contacts FROM INFILE 'contacts.csv' FORMAT CSVWithNames;
