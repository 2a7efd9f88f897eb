// Pages and heavy parts load as chunks of their own, so the first page stays small: lazy() makes a
// component that imports its module on first render and shows a placeholder until then.

import type { ComponentType, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): (props: P) => JSX.Element {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (C) return;
      let live = true;
      pending ??= load().then((c) => (loaded = c));
      pending.then(
        (c) => live && setC(() => c),
        () => {
          pending = null;
          if (live) setFailed(true);
        },
      );
      return () => {
        live = false;
      };
    }, [C]);
    if (failed) return <p class="error center">This part of the app could not be loaded. Check the connection and reload.</p>;
    if (!C) return <p class="muted center">Loading…</p>;
    return <C {...props} />;
  };
}
