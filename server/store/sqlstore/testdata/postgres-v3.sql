--
-- PostgreSQL database dump
--

\restrict Y8W4ImLUzmwD2QWbYHOvDqQX1RvsfmcDwvDHvSyiogIuP2xHVdgl4vaaujbYoQG

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id text NOT NULL,
    user_id text NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    hash bytea NOT NULL,
    created_at bigint NOT NULL,
    last_used_at bigint NOT NULL
);


--
-- Name: attachments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments (
    id text NOT NULL,
    session_id text NOT NULL,
    user_id text NOT NULL,
    filename text NOT NULL,
    media_type text NOT NULL,
    size bigint NOT NULL,
    path text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: browser_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.browser_sessions (
    token_hash bytea NOT NULL,
    user_id text NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: push_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.push_subscriptions (
    id text NOT NULL,
    user_id text NOT NULL,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    enabled_events text DEFAULT '*'::text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: recent_folders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.recent_folders (
    runner_id text NOT NULL,
    path text NOT NULL,
    used_at bigint NOT NULL
);


--
-- Name: relay_session_states; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.relay_session_states (
    session_id text NOT NULL,
    state bytea NOT NULL,
    saved_at bigint NOT NULL
);


--
-- Name: relay_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.relay_sessions (
    id text NOT NULL,
    user_id text NOT NULL,
    user_name text NOT NULL,
    cwd text NOT NULL,
    share_url text NOT NULL,
    started_at bigint NOT NULL,
    last_active_at bigint NOT NULL,
    ended_at bigint,
    is_ephemeral boolean NOT NULL,
    expires_at bigint,
    seq_reserved bigint DEFAULT 0 NOT NULL
);


--
-- Name: runners; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runners (
    id text NOT NULL,
    user_id text NOT NULL,
    secret_hash bytea NOT NULL,
    name text NOT NULL,
    created_at bigint NOT NULL,
    last_seen_at bigint NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    applied_at bigint NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id text NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    password_hash text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: vapid_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.vapid_keys (
    id integer NOT NULL,
    public_key text NOT NULL,
    private_key text NOT NULL,
    created_at bigint NOT NULL,
    CONSTRAINT vapid_keys_id_check CHECK ((id = 1))
);


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_keys VALUES ('k1', 'u1', 'cli', 'pk_abc', '\x686173682d6f662d6b65792d312d33322d62797465732d6c6f6e672e2e2e2e2e78', 1796119202000, 1796119203000);
INSERT INTO public.api_keys VALUES ('k2', 'u2', 'runner', 'pk_def', '\x686173682d6f662d6b65792d322d33322d62797465732d6c6f6e672e2e2e2e2e79', 1796119204000, -62135596800000);


--
-- Data for Name: attachments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.attachments VALUES ('a1', 's1', 'u1', 'notes.txt', 'text/plain', 1234, 'attachments/a1', 1796119215000, 1796983200000);


--
-- Data for Name: browser_sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.browser_sessions VALUES ('\x62726f777365722d746f6b656e2d686173682d31', 'u1', 1798711200000);


--
-- Data for Name: push_subscriptions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.push_subscriptions VALUES ('p1', 'u1', 'https://push.example/abc', 'BP256dh', 'authsecret', '*', 1796119216000);


--
-- Data for Name: recent_folders; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.recent_folders VALUES ('r1', '/home/alice/p', 1796119213000);
INSERT INTO public.recent_folders VALUES ('r1', '/home/alice/q', 1796119214000);


--
-- Data for Name: relay_session_states; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.relay_session_states VALUES ('s1', '\x7b226d65737361676573223a5b7b22726f6c65223a2275736572222c22636f6e74656e74223a226869227d5d7d', 1796119206000);


--
-- Data for Name: relay_sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.relay_sessions VALUES ('s1', 'u1', 'Alice', '/home/alice/p', 'https://relay.example/session/s1', 1796119205000, 1796119206000, NULL, false, NULL, 256);
INSERT INTO public.relay_sessions VALUES ('s2', 'u2', 'Bob', '/home/bob', 'https://relay.example/session/s2', 1796119207000, 1796119208000, 1796119209000, true, 1796983200000, 0);


--
-- Data for Name: runners; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runners VALUES ('r1', 'u1', '\x72756e6e65722d7365637265742d68617368', 'laptop', 1796119211000, 1796119212000);


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, 1796606609921);
INSERT INTO public.schema_migrations VALUES (2, 1796606609930);
INSERT INTO public.schema_migrations VALUES (3, 1796606609962);


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users VALUES ('u1', 'alice@example.com', 'Alice', '$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA', 1796119200000);
INSERT INTO public.users VALUES ('u2', 'bob@example.com', 'Bob', '$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaB', 1796119201000);


--
-- Data for Name: vapid_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.vapid_keys VALUES (1, 'BPublicKey', 'privateKey', 1796119217000);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: attachments attachments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT attachments_pkey PRIMARY KEY (id);


--
-- Name: browser_sessions browser_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.browser_sessions
    ADD CONSTRAINT browser_sessions_pkey PRIMARY KEY (token_hash);


--
-- Name: push_subscriptions push_subscriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_pkey PRIMARY KEY (id);


--
-- Name: recent_folders recent_folders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recent_folders
    ADD CONSTRAINT recent_folders_pkey PRIMARY KEY (runner_id, path);


--
-- Name: relay_session_states relay_session_states_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.relay_session_states
    ADD CONSTRAINT relay_session_states_pkey PRIMARY KEY (session_id);


--
-- Name: relay_sessions relay_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.relay_sessions
    ADD CONSTRAINT relay_sessions_pkey PRIMARY KEY (id);


--
-- Name: runners runners_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runners
    ADD CONSTRAINT runners_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: vapid_keys vapid_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vapid_keys
    ADD CONSTRAINT vapid_keys_pkey PRIMARY KEY (id);


--
-- Name: api_keys_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX api_keys_hash ON public.api_keys USING btree (hash);


--
-- Name: api_keys_user_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX api_keys_user_name ON public.api_keys USING btree (user_id, name);


--
-- Name: attachments_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX attachments_expires_at ON public.attachments USING btree (expires_at);


--
-- Name: attachments_user_expires; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX attachments_user_expires ON public.attachments USING btree (user_id, expires_at);


--
-- Name: browser_sessions_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX browser_sessions_expires_at ON public.browser_sessions USING btree (expires_at);


--
-- Name: push_subscriptions_user_endpoint; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX push_subscriptions_user_endpoint ON public.push_subscriptions USING btree (user_id, endpoint);


--
-- Name: recent_folders_runner_used; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX recent_folders_runner_used ON public.recent_folders USING btree (runner_id, used_at);


--
-- Name: relay_sessions_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX relay_sessions_expires_at ON public.relay_sessions USING btree (expires_at);


--
-- Name: relay_sessions_user_active; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX relay_sessions_user_active ON public.relay_sessions USING btree (user_id, last_active_at);


--
-- Name: users_email; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email ON public.users USING btree (email);


--
-- Name: api_keys api_keys_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: browser_sessions browser_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.browser_sessions
    ADD CONSTRAINT browser_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: push_subscriptions push_subscriptions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: relay_session_states relay_session_states_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.relay_session_states
    ADD CONSTRAINT relay_session_states_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.relay_sessions(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict Y8W4ImLUzmwD2QWbYHOvDqQX1RvsfmcDwvDHvSyiogIuP2xHVdgl4vaaujbYoQG

