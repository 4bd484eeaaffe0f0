import { act, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface ReactRoot {
  /** This test's container, attached to the document. */
  readonly container: HTMLDivElement;
  /** Renders into the container inside act(), mounting a fresh root if none is mounted. */
  render(element: ReactElement): Promise<void>;
  /** Unmounts the root inside act(); a later render mounts a new one in the same container. */
  unmount(): Promise<void>;
}

/**
 * A container and React root for each test of the enclosing scope: made before each test,
 * unmounted and removed after it.
 */
export function reactRootPerTest(): ReactRoot {
  let container: HTMLDivElement | undefined;
  let root: Root | undefined;

  const current = () => {
    if (!container) throw new Error('The React root exists only while a test runs.');
    return container;
  };

  const unmount = async () => {
    const mounted = root;
    root = undefined;
    if (mounted) await act(async () => mounted.unmount());
  };

  beforeEach(() => {
    container = document.createElement('div');
    document.body.append(container);
    root = createRoot(container);
  });

  afterEach(async () => {
    await unmount();
    container?.remove();
    container = undefined;
  });

  return {
    get container() {
      return current();
    },
    async render(element) {
      const mounted = (root ??= createRoot(current()));
      await act(async () => mounted.render(element));
    },
    unmount,
  };
}
