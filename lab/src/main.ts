/**
 * The lab's page: tabs, one panel at a time, all settings in the URL hash.
 */
import { PanelHost } from './panel.js';
import { PANELS } from './panels/index.js';
import { readHash, writeHash } from './url-state.js';

const tabs = document.getElementById('tabs')!;
const root = document.getElementById('panel')!;
let host: PanelHost | null = null;
let current: string | null = null;

async function open(id: string, settings: Record<string, string | number | boolean>): Promise<void> {
  const entry = PANELS.find((p) => p.id === id) ?? PANELS[0]!;
  current = entry.id;
  for (const b of tabs.querySelectorAll('button')) b.classList.toggle('active', b.dataset.panel === entry.id);
  host?.destroy();
  const spec = await entry.load();
  if (current !== entry.id) return;
  host = new PanelHost(spec, root, settings, (s) => history.replaceState(null, '', writeHash(entry.id, s)));
  history.replaceState(null, '', writeHash(entry.id, host.settingsNow()));
  (window as unknown as { lab: unknown }).lab = { host, open };
}

for (const p of PANELS) {
  const b = document.createElement('button');
  b.textContent = p.title;
  b.dataset.panel = p.id;
  b.dataset.testid = `tab-${p.id}`;
  b.onclick = () => void open(p.id, {});
  tabs.append(b);
}

const fromUrl = readHash(location.hash);
void open(fromUrl.panel ?? 'ising', fromUrl.settings);
window.addEventListener('hashchange', () => {
  const h = readHash(location.hash);
  if (h.panel) void open(h.panel, h.settings);
});
