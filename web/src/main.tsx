import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import './style.css';
import { connect, connection } from './chain';
import { resolveRpc } from './config';
import { Catalogue } from './pages/Catalogue';
import { Feed } from './pages/Feed';
import { ModelPage } from './pages/ModelPage';
import { Validators } from './pages/Validators';
import { useStore } from './store';

/** The route in the hash: `#/`, `#/models/3`, `#/validators`, `#/feed`. */
function useRoute(): string[] {
  const parse = () => window.location.hash.replace(/^#\/?/, '').split('?')[0].split('/').filter(Boolean);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const changed = () => {
      setRoute(parse());
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function Page({ route }: { route: string[] }) {
  const [first, second] = route;
  if (!first || first === 'models') {
    if (second !== undefined) {
      const id = Number(second);
      return Number.isInteger(id) && id >= 0 ? <ModelPage id={id} /> : <p class="error">No such model.</p>;
    }
    return <Catalogue />;
  }
  if (first === 'validators') return <Validators />;
  if (first === 'feed') return <Feed />;
  return <p class="error">No such page. <a href="#/">Models</a></p>;
}

function App() {
  const route = useRoute();
  const state = useStore(connection);
  const connected = state.status === 'connected' || (state.chain !== '' && state.status !== 'error');
  const current = route[0] ?? 'models';
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">Gateless</a>
        <nav>
          <a href="#/" class={current === 'models' ? 'current' : ''}>Models</a>
          <a href="#/validators" class={current === 'validators' ? 'current' : ''}>Validators</a>
          <a href="#/feed" class={current === 'feed' ? 'current' : ''}>Live feed</a>
        </nav>
        <span class={`node node-${state.status}`} data-testid="node-status" title={`${state.url} (from ${state.source})`}>
          {state.chain ? `${state.chain} · #${state.best}` : state.url || 'connecting'} · {state.status}
        </span>
      </header>
      <main>
        {state.chain === '' ? (
          <div class="card">
            <p>{state.status === 'error' || state.status === 'disconnected' ? `Cannot reach the node at ${state.url}; trying again…` : `Connecting to ${state.url || 'the node'}…`}</p>
            <p class="muted small">
              The node is taken from <code>?rpc=ws://…</code> in the address, else from the page's
              {' '}<code>gateless-rpc</code> meta tag or <code>config.json</code>, else <code>ws://127.0.0.1:9944</code>.
            </p>
          </div>
        ) : (
          <>
            {!connected && <p class="warning">The connection to {state.url} dropped; reconnecting…</p>}
            <Page route={route} />
          </>
        )}
      </main>
      <footer class="muted small">
        Node <code>{state.url}</code> ({state.source}). Every figure is read from the chain through its JSON-RPC.
      </footer>
    </>
  );
}

render(<App />, document.getElementById('app')!);

resolveRpc()
  .then(({ url, source }) => connect(url, source))
  .catch((error: Error) => connection.update((c) => ({ ...c, status: 'error', error: error.message })));
