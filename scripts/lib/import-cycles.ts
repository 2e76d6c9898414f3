/** A group of files that import each other, and one concrete cycle through its first file. */
export interface ImportCycle {
  /** Every file of the strongly connected group, sorted. */
  files: string[];
  /** first → … → first: a shortest cycle through the group's first file. */
  path: string[];
}

type Adjacency = ReadonlyMap<string, readonly string[]>;

/** Strongly connected components (Tarjan's algorithm, iterative so deep chains cannot overflow the stack). */
function stronglyConnected(nodes: readonly string[], next: Adjacency): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; child: number }> = [{ node: start, child: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; child: number };
      const children = next.get(frame.node) ?? [];
      if (frame.child < children.length) {
        const child = children[frame.child++] as string;
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(child) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent)
        low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** A shortest path first → … → first that stays inside the group (breadth-first). */
function shortestCycle(first: string, group: ReadonlySet<string>, next: Adjacency): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [first];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as string;
    for (const child of next.get(node) ?? []) {
      if (!group.has(child)) continue;
      if (child === first) {
        const back: string[] = [];
        for (let at: string | undefined = node; at !== undefined && at !== first; at = cameFrom.get(at)) {
          back.push(at);
        }
        return [first, ...back.reverse(), first];
      }
      if (!cameFrom.has(child)) {
        cameFrom.set(child, node);
        queue.push(child);
      }
    }
  }
  return [first, first];
}

/** Every import cycle among the given edges (a file importing itself counts), in a stable order. */
export function findCycles(edges: Iterable<{ from: string; to: string | undefined }>): ImportCycle[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (to === undefined) continue;
    const targets = next.get(from) ?? [];
    if (!targets.includes(to)) targets.push(to);
    next.set(from, targets);
    if (!next.has(to)) next.set(to, []);
  }
  for (const targets of next.values()) targets.sort();
  const nodes = [...next.keys()].sort();
  return stronglyConnected(nodes, next)
    .filter(
      (component) =>
        component.length > 1 || next.get(component[0] as string)?.includes(component[0] as string),
    )
    .map((component) => {
      const files = component.sort();
      const first = files[0] as string;
      return { files, path: shortestCycle(first, new Set(files), next) };
    })
    .sort((a, b) => (a.files[0] as string).localeCompare(b.files[0] as string));
}
