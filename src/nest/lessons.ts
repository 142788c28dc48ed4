/** One lesson of `budgie nest learn`: a few lines of prose and the commands to copy. */
export interface Lesson {
  topic: string;
  title: string;
  /** Lines of text; lines starting with `$ ` are commands. */
  lines: readonly string[];
}

/** Kept to what this version of Budgie does: no lesson promises a planned command. */
export const LESSONS: readonly Lesson[] = [
  {
    topic: 'first-container',
    title: 'Your first container',
    lines: [
      'From a clone of the repository, as root: build the demo image, start the agent (it drives',
      'containerd) and run the demo app, two busybox web servers behind port 8080:',
      '$ make images',
      '$ budgie agent &',
      '$ budgie run bundles/hello.bun',
      '`run` returns once the replicas run and pass their healthcheck. Then:',
      '$ budgie ps',
      '$ curl http://127.0.0.1:8080/cgi-bin/hostname',
      '$ budgie stop hello',
    ],
  },
  {
    topic: 'lan',
    title: 'Discovering containers on the LAN',
    lines: [
      'Agents find each other by mDNS and trust each other only inside a cluster. On the first machine:',
      '$ budgie cluster init',
      'It prints a BGT1.… token. On every other machine (--peer only where multicast is blocked):',
      '$ budgie cluster join BGT1.… --peer 192.168.1.20:7447',
      '$ budgie cluster nodes',
      "Then list every replica of every member, or read a remote replica's output:",
      '$ budgie chirp',
      '$ budgie ps --all-nodes',
      '$ budgie logs ID',
    ],
  },
  {
    topic: 'replication',
    title: 'Replication',
    lines: [
      'A .bun file sets replicas.min (always kept running) and replicas.max (the ceiling).',
      'Published ports balance over the healthy replicas; a replica that exits or turns unhealthy',
      'is replaced with backoff. Change the count within min..max:',
      '$ budgie scale hello 4',
      'Running a changed file again rolls it out one replica at a time:',
      '$ budgie run bundles/hello.bun',
    ],
  },
  {
    topic: 'managing',
    title: 'Managing containers',
    lines: [
      'IDs are shown as 12 hex digits; every command takes a unique prefix or the app name.',
      '$ budgie ps --all',
      '$ budgie logs hello -f --tail 20',
      '$ budgie stop ID',
      '$ budgie rm hello --force',
      "Images live in the agent's containerd:",
      '$ budgie image ls',
      '$ budgie image pull nginx:alpine',
    ],
  },
  {
    topic: 'bun-file',
    title: 'Writing a .bun file',
    lines: [
      'One small YAML file per app; only version, name and an image are required:',
      "  version: '1.0'",
      "  name: 'web'",
      '  image:',
      "    docker_image: 'nginx:alpine'",
      '  ports:',
      '    - container_port: 80',
      '      host_port: 8080',
      '  healthcheck:',
      "    path: '/'",
      '  replicas:',
      '    min: 2',
      'Check it without an agent (errors name the line, column and field), then run it:',
      '$ budgie validate web.bun',
      '$ budgie run web.bun',
    ],
  },
];

export function findLesson(topic: string): Lesson | undefined {
  return LESSONS.find((l) => l.topic === topic);
}
