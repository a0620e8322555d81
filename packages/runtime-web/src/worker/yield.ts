import type { RuntimePlatform } from '@shortv/runtime-core';
import type { InferenceSession } from 'onnxruntime-common';

/**
 * Resolves on a fresh task of the event loop. onnxruntime-web's wasm `run` computes inside the call and
 * settles its promise as a microtask, so a loop of session runs (a generation, an LC sweep) would
 * never let the worker read its next message, and an `abort` would wait for the whole job. A
 * MessageChannel task is not clamped to 4 ms as nested timers are.
 */
export function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function yieldingSession(session: InferenceSession): InferenceSession {
  const run = session.run.bind(session) as (...args: unknown[]) => Promise<InferenceSession.ReturnType>;
  return new Proxy(session, {
    get(target, property, receiver) {
      if (property === 'run') {
        return async (...args: unknown[]) => {
          await nextTask();
          return run(...args);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The platform with every session run preceded by a turn of the event loop (see `nextTask`). */
export function yieldingPlatform<P extends RuntimePlatform>(platform: P): P {
  const wrapped = Object.create(platform) as P;
  wrapped.createSession = async (model, options) =>
    yieldingSession(await platform.createSession(model, options));
  return wrapped;
}
