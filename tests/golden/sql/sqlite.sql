-- segq sql --dialect sqlite (generated schema, --now 2026-03-15T13:45:30Z)

-- ==== segq sql --ddl
-- segq SQL layout for sqlite: one row per contact / account; a missing value is NULL.
-- dates are TEXT 'YYYY-MM-DD', date-times TEXT 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), bools 0/1;
-- set fields are tables contact_<field>(contact_id, value) and account_<field>(account_id, value);
-- `matches` needs a REGEXP function (the sqlite3 shell has one; register one elsewhere).

CREATE TABLE accounts (
  id INTEGER NOT NULL,
  domain TEXT,
  employees INTEGER,
  industry TEXT,
  name TEXT,
  region TEXT,
  tier TEXT,
  PRIMARY KEY (id)
);

CREATE TABLE contacts (
  id INTEGER NOT NULL,
  account_id INTEGER,
  company_size INTEGER,
  created_at TEXT,
  email TEXT,
  first_name TEXT,
  industry TEXT,
  last_activity TEXT,
  last_name TEXT,
  meetings_30d INTEGER,
  opens_30d INTEGER,
  opted_in INTEGER,
  region TEXT,
  replies_30d INTEGER,
  "role" TEXT,
  score INTEGER,
  seniority TEXT,
  stage TEXT,
  title TEXT,
  PRIMARY KEY (id)
);

CREATE TABLE contact_tags (
  contact_id INTEGER NOT NULL,
  "value" TEXT NOT NULL,
  PRIMARY KEY (contact_id, "value")
);
CREATE INDEX contact_tags_value ON contact_tags (value);

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
  AND c.last_activity BETWEEN '2026-02-14' AND '2026-03-15'
  AND instr(lower(c.title), 'head of') > 0
  AND c.email IS NOT NULL
  AND NOT (
    c.id IN (
      SELECT d1.k
      FROM (
        SELECT d1.id AS k, count(*) OVER (PARTITION BY lower(trim(d1.email, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)))) AS n
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
WHERE c.id IN (
    SELECT t1.contact_id
    FROM contact_tags AS t1
    WHERE t1.value IN ('webinar', 'trial')
  )
  AND c.account_id IN (
    SELECT a2.id
    FROM accounts AS a2
    WHERE a2.industry = 'software'
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
  AND NOT (
    c.id IN (
      SELECT t2.contact_id
      FROM contact_tags AS t2
      WHERE t2.value IN ('webinar', 'trial')
      GROUP BY t2.contact_id
      HAVING count(DISTINCT t2.value) = 2
    )
  );

-- ==== q8: regex, prefix and suffix
-- title matches "^(VP|Head) of\\b" and title starts_with "vp" or title ends_with "sales"
SELECT c.id
FROM contacts AS c
WHERE (c.title REGEXP '^(VP|Head) of\b' AND substr(lower(c.title), 1, 2) = 'vp')
  OR substr(lower(c.title), -5) = 'sales';

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
WHERE c.created_at > '2026-03-01 13:45:30.000000'
  AND c.last_activity < '2026-01-01'
  AND c.opted_in = 1
  AND c.id IN (SELECT t1.contact_id FROM contact_tags AS t1)
  AND NOT (
    c.id IN (
      SELECT t2.contact_id
      FROM contact_tags AS t2
      WHERE t2.value = 'churn_risk'
    )
  );

-- ==== q11: quoting
-- email is missing or title = "O'Neil \"Ops\" \\ lead" or title contains "100%_\n"
SELECT c.id
FROM contacts AS c
WHERE c.email IS NULL
  OR c.title = 'O''Neil "Ops" \ lead'
  OR instr(lower(c.title), ('100%_' || char(10))) > 0;

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
          SELECT d2.id AS k, count(*) OVER (PARTITION BY lower(trim(d2.domain, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)))) AS n
          FROM accounts AS d2
          WHERE d2.domain IS NOT NULL
        ) AS d2
        WHERE d2.n > 1
      )
  )
  AND NOT (c.account_id IS NOT NULL AND c.account_id IN (SELECT a3.id FROM accounts AS a3 WHERE a3.name IS NULL));

-- ==== segq sql --segments (dependencies first)
DROP VIEW IF EXISTS "decision_makers";
CREATE VIEW "decision_makers" AS
SELECT c.*
FROM contacts AS c
WHERE c."role" IN ('decision_maker', 'economic_buyer');

DROP VIEW IF EXISTS "engaged";
CREATE VIEW "engaged" AS
SELECT c.*
FROM contacts AS c
WHERE c.replies_30d > 2 OR c.meetings_30d >= 1;

DROP VIEW IF EXISTS "hot";
CREATE VIEW "hot" AS
SELECT c.*
FROM contacts AS c
WHERE c.id IN (SELECT id FROM "decision_makers")
  AND c.id IN (SELECT id FROM "engaged")
  AND c.stage IN ('opportunity', 'customer', 'churned');

-- ==== load.sql written by segq export
-- Loads the CSV files written by `segq export --dialect sqlite`.
-- Run: cd <this directory> && sqlite3 segq.db < load.sql

-- (the CREATE TABLE statements above)

.import --csv --skip 1 accounts.csv accounts
UPDATE accounts SET
  domain = NULLIF(domain, ''),
  employees = NULLIF(employees, ''),
  industry = NULLIF(industry, ''),
  name = NULLIF(name, ''),
  region = NULLIF(region, ''),
  tier = NULLIF(tier, '');
.import --csv --skip 1 contacts.csv contacts
UPDATE contacts SET
  account_id = NULLIF(account_id, ''),
  company_size = NULLIF(company_size, ''),
  created_at = NULLIF(created_at, ''),
  email = NULLIF(email, ''),
  first_name = NULLIF(first_name, ''),
  industry = NULLIF(industry, ''),
  last_activity = NULLIF(last_activity, ''),
  last_name = NULLIF(last_name, ''),
  meetings_30d = NULLIF(meetings_30d, ''),
  opens_30d = NULLIF(opens_30d, ''),
  opted_in = NULLIF(opted_in, ''),
  region = NULLIF(region, ''),
  replies_30d = NULLIF(replies_30d, ''),
  "role" = NULLIF("role", ''),
  score = NULLIF(score, ''),
  seniority = NULLIF(seniority, ''),
  stage = NULLIF(stage, ''),
  title = NULLIF(title, '');
.import --csv --skip 1 contact_tags.csv contact_tags
