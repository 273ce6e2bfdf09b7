// Backend selection. `native` (the Node-API addon in native/) is used when it loads; otherwise one
// warning is printed and everything runs on `js`. ADAREC_BACKEND=js|native forces a choice.
import { JsKernels } from './js.js';
import type { Kernels } from './kernels.js';
import { loadNativeKernels } from './native.js';

export type BackendName = 'js' | 'native';

const js = new JsKernels();
let native: Kernels | null | undefined; // undefined: not tried yet
let nativeError = '';
let active: Kernels | undefined;
let warned = false;

function tryNative(): Kernels | null {
  if (native === undefined) {
    try {
      native = loadNativeKernels(js);
    } catch (e) {
      native = null;
      nativeError = (e as Error).message.split('\n')[0];
    }
  }
  return native ?? null;
}

/** Whether the native addon is built and loads on this machine. */
export function nativeAvailable(): boolean {
  return tryNative() !== null;
}

/** Why the native addon could not be loaded ('' if it loaded). */
export function nativeLoadError(): string {
  tryNative();
  return nativeError;
}

/** The kernels every op runs on. */
export function kernels(): Kernels {
  if (active) return active;
  const wanted = process.env.ADAREC_BACKEND;
  if (wanted !== undefined && wanted !== 'js' && wanted !== 'native')
    throw new Error(`ADAREC_BACKEND must be 'js' or 'native', got '${wanted}'`);
  if (wanted === 'js') return (active = js);
  const n = tryNative();
  if (n) return (active = n);
  if (wanted === 'native') throw new Error(`ADAREC_BACKEND=native but the native addon failed to load: ${nativeError}`);
  if (!warned) {
    warned = true;
    process.emitWarning(`adarec: native backend unavailable (${nativeError}); running on the slower js backend. ` +
      'Install libdnnl-dev (or libopenblas-dev) and run `npm run build:native`.', { code: 'ADAREC_NO_NATIVE' });
  }
  return (active = js);
}

/** Switches backend for everything that runs afterwards (tests compare the two this way). */
export function setBackend(name: BackendName): void {
  if (name === 'js') active = js;
  else {
    const n = tryNative();
    if (!n) throw new Error(`native backend unavailable: ${nativeError}`);
    active = n;
  }
}

export function backendName(): BackendName {
  return kernels().name;
}
