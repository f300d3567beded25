// Classification metrics of DFER papers: WAR (weighted average recall = accuracy), UAR (unweighted average recall:
// the mean recall of the classes that occur in the labels, as sklearn's balanced_accuracy_score), per-class recall
// and the confusion matrix (rows: true class, columns: predicted class).

export interface Metrics {
  /** Clips scored. */
  count: number;
  war: number;
  uar: number;
  /** Recall of each class; null for a class with no clip labelled so. */
  recall: (number | null)[];
  /** confusion[true][predicted]. */
  confusion: number[][];
}

/** Metrics of (true, predicted) class index pairs over `classes` classes. */
export function classificationMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  classes: number,
): Metrics {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++;
    if (t === predicted[i]) correct++;
  });
  const recall = confusion.map((row, c) => {
    const support = row.reduce((a, b) => a + b, 0);
    return support === 0 ? null : row[c] / support;
  });
  const present = recall.filter((r): r is number => r !== null);
  return {
    count: truth.length,
    war: truth.length ? correct / truth.length : 0,
    uar: present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0,
    recall,
    confusion,
  };
}

const pct = (x: number | null) => (x === null ? "    -" : (100 * x).toFixed(2).padStart(6));

/** Per-fold WAR/UAR, their mean over folds when there are several, per-class recall and the confusion matrix. */
export function metricsText(
  folds: readonly { name: string; metrics: Metrics }[],
  overall: Metrics,
  labels: readonly string[],
): string {
  const lines: string[] = [];
  const width = Math.max(4, ...folds.map((f) => f.name.length), "all clips".length);
  lines.push(`${"fold".padEnd(width)}  clips     WAR     UAR`);
  for (const f of folds)
    lines.push(
      `${f.name.padEnd(width)}  ${String(f.metrics.count).padStart(5)}  ${pct(f.metrics.war)}  ${pct(f.metrics.uar)}`,
    );
  if (folds.length > 1) {
    const mean = (pick: (m: Metrics) => number) => folds.reduce((s, f) => s + pick(f.metrics), 0) / folds.length;
    lines.push(
      `${"mean".padEnd(width)}  ${String(overall.count).padStart(5)}  ${pct(mean((m) => m.war))}  ` +
        `${pct(mean((m) => m.uar))}`,
    );
  }
  lines.push("", "per-class recall (all clips):");
  const nameWidth = Math.max(5, ...labels.map((l) => l.length));
  labels.forEach((l, c) =>
    lines.push(
      `  ${l.padEnd(nameWidth)} ${pct(overall.recall[c])}  (${overall.confusion[c].reduce((a, b) => a + b, 0)} clips)`,
    ),
  );
  lines.push("", "confusion matrix (rows: true class, columns: predicted):");
  const cell = Math.max(5, ...overall.confusion.flat().map((n) => String(n).length + 1));
  const short = labels.map((l) => l.slice(0, cell - 1));
  lines.push(`  ${"".padEnd(nameWidth)} ${short.map((l) => l.padStart(cell)).join("")}`);
  overall.confusion.forEach((row, c) =>
    lines.push(`  ${labels[c].padEnd(nameWidth)} ${row.map((n) => String(n).padStart(cell)).join("")}`),
  );
  return `${lines.join("\n")}\n`;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The confusion matrix as an SVG picture: cells shaded by the row's share, with counts and row recall. */
export function confusionSvg(metrics: Metrics, labels: readonly string[], title: string): string {
  const n = labels.length;
  const cell = 56;
  const left = 20 + 8 * Math.max(...labels.map((l) => l.length), 4);
  const top = 70 + 7 * Math.max(...labels.map((l) => l.length), 4);
  const width = left + n * cell + 80;
  const height = top + n * cell + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ` +
      `${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="38">WAR ${(100 * metrics.war).toFixed(2)}%  UAR ${(100 * metrics.uar).toFixed(2)}%  ` +
      `(${metrics.count} clips; rows: true class, columns: predicted)</text>`,
  ];
  labels.forEach((l, c) => {
    const x = left + c * cell + cell / 2;
    parts.push(`<text x="${x}" y="${top - 8}" transform="rotate(-45 ${x} ${top - 8})">${escapeXml(l)}</text>`);
    parts.push(`<text x="${left - 6}" y="${top + c * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(l)}</text>`);
  });
  metrics.confusion.forEach((row, r) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, c) => {
      const share = support ? count / support : 0;
      const shade = Math.round(255 - 200 * share);
      const fill = r === c ? `rgb(${shade},${Math.round(255 - 120 * share)},${shade})` : `rgb(255,${shade},${shade})`;
      const [x, y] = [left + c * cell, top + r * cell];
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#999"/>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle">${count}</text>`);
    });
    const recall = metrics.recall[r];
    parts.push(
      `<text x="${left + n * cell + 8}" ` +
        `y="${top + r * cell + cell / 2 + 4}">${recall === null ? "-" : `${(100 * recall).toFixed(1)}%`}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
