// The console's shell: sign-in, the navigation of the pages the role may see, and the page of the URL.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setSession, whenSignedOut, type SessionInfo } from './api';
import { navigate, useLocation } from './router';
import { Link, Problem } from './ui';
import type { Page } from './types';
import { Overview } from './pages/overview';
import { Connectors, ConnectorDetail } from './pages/connectors';
import { Messages, MessageDetail } from './pages/messages';
import { Accounts, AccountDetail } from './pages/accounts';
import { Routing, RoutingRuleEdit } from './pages/routing';
import { Settlement } from './pages/settlement';
import { DeadLetters } from './pages/deadletters';
import './style.css';

const TITLES: Record<Page, string> = {
  overview: 'Overview',
  connectors: 'Connectors',
  messages: 'Messages',
  accounts: 'Accounts',
  routing: 'Routing & firewall',
  settlement: 'Settlement',
  deadletters: 'Dead letters',
};

function SignIn(props: { onSignedIn: (s: SessionInfo) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await api.post<SessionInfo>('/api/session', { token }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-label="sign in">
        <h1>smshub console</h1>
        <p>Sign in with an API token of role admin, operations or finance.</p>
        <label>
          Token
          <input
            name="token"
            type="password"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <Problem error={error} />
      </form>
    </main>
  );
}

function route(path: string, session: SessionInfo) {
  const [, first = '', second, third] = path.split('/');
  const page = (first || 'overview') as Page;
  if (!session.pages.includes(page)) {
    return (
      <section>
        <h1>Not available</h1>
        <p class="problem" role="alert">
          {Object.keys(TITLES).includes(page)
            ? `Your role (${session.role}) cannot open ${TITLES[page]}.`
            : 'No such page.'}
        </p>
      </section>
    );
  }
  const id = second ? decodeURIComponent(second) : undefined;
  switch (page) {
    case 'overview':
      return <Overview />;
    case 'connectors':
      return id ? <ConnectorDetail id={id} session={session} /> : <Connectors session={session} />;
    case 'messages':
      return id ? <MessageDetail id={id} /> : <Messages />;
    case 'accounts':
      return id ? <AccountDetail id={id} session={session} /> : <Accounts />;
    case 'routing':
      return id === 'rules' && third ? (
        <RoutingRuleEdit id={decodeURIComponent(third)} session={session} />
      ) : (
        <Routing session={session} />
      );
    case 'settlement':
      return <Settlement />;
    case 'deadletters':
      return <DeadLetters group={id} session={session} />;
  }
}

function App() {
  const loc = useLocation();
  const [session, setS] = useState<SessionInfo | null | undefined>(undefined);
  const [menu, setMenu] = useState(false);
  const signedIn = (s: SessionInfo | null) => {
    setSession(s);
    setS(s);
  };
  useEffect(() => {
    whenSignedOut(() => signedIn(null));
    api.get<SessionInfo>('/api/session').then(signedIn, () => signedIn(null));
  }, []);
  useEffect(() => setMenu(false), [loc.path]);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={signedIn} />;
  const current = loc.path.split('/')[1] || 'overview';
  const signOut = async () => {
    await api.del('/api/session').catch(() => undefined);
    signedIn(null);
    navigate('/');
  };
  return (
    <div class="shell">
      <header>
        <button class="menu" aria-label="menu" aria-expanded={menu} onClick={() => setMenu(!menu)}>
          ☰
        </button>
        <span class="brand">smshub</span>
        <span class="who" data-role={session.role}>
          {session.role}
        </span>
        <button class="signout" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav class={menu ? 'open' : ''} aria-label="pages">
        {session.pages.map((p) => (
          <Link key={p} href={p === 'overview' ? '/' : `/${p}`} class={current === p ? 'active' : ''}>
            {TITLES[p]}
          </Link>
        ))}
      </nav>
      <main>{route(loc.path, session)}</main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
