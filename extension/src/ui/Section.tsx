import type { ReactNode } from 'react';
import { styles } from './styles';

export function Section({
  title,
  testId,
  status,
  children,
}: {
  title: string;
  testId: string;
  status: string;
  children: ReactNode;
}) {
  return (
    <section style={styles.section} data-cy={testId} data-status={status}>
      <h3 style={styles.sectionTitle}>{title}</h3>
      {children}
    </section>
  );
}
