-- Residents, their contact points, streets and zones, one-time codes, send budgets, web
-- sessions and the server's own secrets (issue 4). Applied by gateway.storage.database
-- inside one transaction; no BEGIN/COMMIT here. Times are integer ms since the epoch, UTC.
-- Codes and budget counters never hold a phone number or an address in clear: they are keyed
-- by an HMAC of it, so deleting an account deletes every row that could name its numbers.

-- Generated at first run (random bytes), never shown: HMAC keys for codes and number keys.
CREATE TABLE server_secret (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- Neighbourhoods / communities a street belongs to; campaigns target them later.
CREATE TABLE zone (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

-- The town's street list (admins load it; the demo loads a sample).
CREATE TABLE street (
    id INTEGER PRIMARY KEY,
    city TEXT NOT NULL,
    name TEXT NOT NULL,
    zone_id INTEGER REFERENCES zone (id) ON DELETE SET NULL,
    UNIQUE (city, name)
) STRICT;

CREATE TABLE resident (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE CHECK (phone GLOB '+[1-9]*'),  -- the login number, E.164
    password_hash TEXT NOT NULL,  -- argon2id, PHC string
    last_name TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
    city TEXT NOT NULL DEFAULT '',
    civic_number TEXT NOT NULL DEFAULT '',
    street_id INTEGER REFERENCES street (id) ON DELETE SET NULL,
    apartment TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    -- Consent is opt-in and separate per kind of message; hiding the number is opt-out.
    consent_sms_alerts INTEGER NOT NULL DEFAULT 0 CHECK (consent_sms_alerts IN (0, 1)),
    consent_voice_alerts INTEGER NOT NULL DEFAULT 0 CHECK (consent_voice_alerts IN (0, 1)),
    consent_neighbour_alerts INTEGER NOT NULL DEFAULT 0
        CHECK (consent_neighbour_alerts IN (0, 1)),
    hide_my_number INTEGER NOT NULL DEFAULT 1 CHECK (hide_my_number IN (0, 1)),
    -- The "add an SMS number?" question is asked once, after the first login.
    sms_prompt_done INTEGER NOT NULL DEFAULT 0 CHECK (sms_prompt_done IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX resident_street ON resident (street_id);

-- Coordonnées: the numbers alerts reach, by voice call or SMS. A number is verified by a
-- code before it can be active.
CREATE TABLE contact (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES resident (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'sms')),
    number TEXT NOT NULL CHECK (number GLOB '+[1-9]*'),
    description TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    created_at INTEGER NOT NULL,
    CHECK (verified = 1 OR active = 0),
    UNIQUE (resident_id, kind, number)
) STRICT;

CREATE INDEX contact_number ON contact (number);

-- One live code per (number, purpose); a new request replaces it.
CREATE TABLE otp_code (
    number_key TEXT NOT NULL,  -- HMAC of the E.164 number
    purpose TEXT NOT NULL CHECK (purpose IN ('register', 'reset', 'add_contact')),
    code_mac TEXT NOT NULL,  -- HMAC-SHA256 of purpose, number and code
    tries INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (number_key, purpose)
) STRICT, WITHOUT ROWID;

-- Codes and notices sent, for the per-number, per-address and town-wide budgets.
CREATE TABLE send_event (
    id INTEGER PRIMARY KEY,
    number_key TEXT NOT NULL,
    client_key TEXT NOT NULL,  -- HMAC of the client address
    at INTEGER NOT NULL
) STRICT;

CREATE INDEX send_event_number ON send_event (number_key, at);
CREATE INDEX send_event_client ON send_event (client_key, at);
CREATE INDEX send_event_at ON send_event (at);

-- Browser sessions, anonymous ones included (they carry the CSRF token and a pending number).
CREATE TABLE web_session (
    token_hash TEXT PRIMARY KEY,  -- SHA-256 of the cookie value; the value is never stored
    resident_id INTEGER REFERENCES resident (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',  -- JSON: language, pending number and purpose
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX web_session_resident ON web_session (resident_id);
CREATE INDEX web_session_seen ON web_session (last_seen_at);
