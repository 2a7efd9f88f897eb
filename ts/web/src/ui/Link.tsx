import type { ComponentChildren } from "preact";
import { navigate } from "../router";

/** An anchor that navigates in the app (a modified click still opens a new tab). */
export function Link(props: { href: string; class?: string; current?: boolean; children: ComponentChildren }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} onClick={onClick} aria-current={props.current ? "page" : undefined}>
      {props.children}
    </a>
  );
}
