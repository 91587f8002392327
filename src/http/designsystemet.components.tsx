// Designsystemet's typography as preact components, shared by the server-rendered pages (Min
// profil's and the dev ID-porten's): one place for the classes and sizes they use alike.

import type { ComponentChildren, VNode } from 'preact';

export function Heading({ level = 1, children }: { level?: 1 | 2; children?: ComponentChildren }): VNode {
  return level === 1 ? (
    <h1 class="ds-heading" data-size="lg">
      {children}
    </h1>
  ) : (
    <h2 class="ds-heading" data-size="sm">
      {children}
    </h2>
  );
}

export function Paragraph({ children }: { children?: ComponentChildren }): VNode {
  return <p class="ds-paragraph">{children}</p>;
}
