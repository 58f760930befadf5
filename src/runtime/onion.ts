/** The middleware onions around publish and around handle, composed once per bus. */
import type { HandleMiddlewareContext, Middleware, PublishMiddlewareContext, PublishReceipt } from './types.js';

export type PublishFn = (ctx: PublishMiddlewareContext, send: () => Promise<PublishReceipt>) => Promise<PublishReceipt>;
export type HandleFn = (ctx: HandleMiddlewareContext, run: () => Promise<void>) => Promise<void>;

/** Undefined with no publish middleware, so the caller can take its direct path. */
export function composePublish(mw: readonly Middleware[]): PublishFn | undefined {
  const layers = mw.filter((m) => m.publish);
  if (layers.length === 0) return undefined;
  return (ctx, send) => {
    const step = (i: number): Promise<PublishReceipt> => (i === layers.length ? send() : layers[i]!.publish!(ctx, () => step(i + 1)));
    return step(0);
  };
}

export function composeHandle(mw: readonly Middleware[]): HandleFn | undefined {
  const layers = mw.filter((m) => m.handle);
  if (layers.length === 0) return undefined;
  return (ctx, run) => {
    const step = (i: number): Promise<void> => (i === layers.length ? run() : layers[i]!.handle!(ctx, () => step(i + 1)));
    return step(0);
  };
}
