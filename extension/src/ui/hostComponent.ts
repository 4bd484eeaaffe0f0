import { Component, createElement, type ComponentType } from 'react';
import { createRoot, type Root } from 'react-dom/client';

/**
 * Wraps a component of this bundle's React so the host viewer, which runs its own copy of React,
 * can render it. The host only sees a class component: it renders a plain <div> (React 18 elements
 * are plain objects shared across copies) and mounts an independent React root of ours inside it.
 */
export function hostComponent<Props extends object>(
  Inner: ComponentType<Props>,
  boundProps: Props,
  testId: string
) {
  return class HostedComponent extends Component<object> {
    private container: HTMLDivElement | null = null;
    private root: Root | undefined;

    override componentDidMount(): void {
      if (!this.container) return;
      this.root = createRoot(this.container);
      this.root.render(createElement(Inner, boundProps));
    }

    override componentWillUnmount(): void {
      const root = this.root;
      this.root = undefined;
      // Unmounting our root while the host is mid-commit would warn; defer it to after the host's work.
      queueMicrotask(() => root?.unmount());
    }

    override render() {
      return createElement('div', {
        ref: (element: HTMLDivElement | null) => (this.container = element),
        'data-cy': testId,
        style: { height: '100%', overflowY: 'auto' },
      });
    }
  };
}
