// Which node the page talks to, in order:
// 1. `?rpc=ws://...` in the page's query string (before the `#/route`);
// 2. `<meta name="gateless-rpc" content="ws://...">` in index.html (empty: not set);
// 3. `config.json` served beside the assets: `{"rpc": "ws://127.0.0.1:9944"}`;
// 4. ws://127.0.0.1:9944.

export const DEFAULT_RPC = 'ws://127.0.0.1:9944';

export type RpcSource = 'query' | 'meta' | 'config.json' | 'default';

function usable(url: unknown): url is string {
  return typeof url === 'string' && /^wss?:\/\/\S+$/i.test(url.trim());
}

export async function resolveRpc(): Promise<{ url: string; source: RpcSource }> {
  const query = new URLSearchParams(window.location.search).get('rpc');
  if (usable(query)) return { url: query.trim(), source: 'query' };
  const meta = document.querySelector<HTMLMetaElement>('meta[name="gateless-rpc"]')?.content;
  if (usable(meta)) return { url: meta.trim(), source: 'meta' };
  try {
    const response = await fetch('./config.json', { cache: 'no-store' });
    if (response.ok) {
      const config = (await response.json()) as { rpc?: unknown };
      if (usable(config.rpc)) return { url: config.rpc.trim(), source: 'config.json' };
    }
  } catch {
    // No config.json beside the assets (a plain static server): the default.
  }
  return { url: DEFAULT_RPC, source: 'default' };
}
