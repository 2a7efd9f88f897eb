import { useLayoutEffect, useRef } from "preact/hooks";
import { MessageView } from "./Message";
import type { SessionState } from "./state";

/** The conversation, kept scrolled to the newest message unless the reader scrolled up. */
export function Transcript({ state }: { state: SessionState }) {
  const ref = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = () => {
    const el = ref.current;
    if (el) pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  };
  const streaming = state.messages.at(-1)?.streaming === true;
  return (
    <div class="transcript" ref={ref} onScroll={onScroll}>
      <div class="transcript-inner">
        {state.messages.length === 0 && <p class="muted center">No messages yet.</p>}
        {state.messages.map((m) => (
          <MessageView key={m.key} message={m} tools={state.tools} />
        ))}
        {state.active && !streaming && <p class="working">Working…</p>}
      </div>
    </div>
  );
}
