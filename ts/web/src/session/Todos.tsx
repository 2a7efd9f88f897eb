import type { Todo } from "./state";

const done = (t: Todo) => t.status === "completed" || t.status === "done";

export function Todos({ todos }: { todos: readonly Todo[] }) {
  if (todos.length === 0) return null;
  return (
    <details class="todos">
      <summary>
        Todo {todos.filter(done).length}/{todos.length}
      </summary>
      <ul>
        {todos.map((t, i) => (
          <li key={i} class={`todo todo-${done(t) ? "done" : t.status}`}>
            {t.text}
          </li>
        ))}
      </ul>
    </details>
  );
}
