import { useLayoutEffect, useRef } from "preact/hooks";
import { MessageView } from "./Message";
import type { SessionState } from "./state";

/** Where the reader was in each session, so switching back restores it. */
const positions = new Map<string, { top: number; count: number }>();

/**
 * The conversation, kept scrolled to the newest message unless the reader scrolled up; the
 * position is remembered per session and restored when the conversation has loaded again.
 */
export function Transcript({ sessionId, state }: { sessionId: string; state: SessionState }) {
  const ref = useRef<HTMLDivElement>(null);
  const saved = useRef(positions.get(sessionId));
  const pinned = useRef(saved.current === undefined);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const s = saved.current;
    if (s && state.messages.length >= s.count) {
      el.scrollTop = s.top;
      saved.current = undefined;
      return;
    }
    if (pinned.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = () => {
    const el = ref.current;
    if (!el || saved.current) return;
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (pinned.current) positions.delete(sessionId);
    else positions.set(sessionId, { top: el.scrollTop, count: state.messages.length });
  };
  const streaming = state.messages.at(-1)?.streaming === true;
  return (
    <div class="transcript" ref={ref} onScroll={onScroll} tabIndex={0} aria-label="Conversation">
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
