import { sameName } from './names';
import { allRecords, type AdvertRecords } from './records';
import type { DnsQuestion, DnsRecord } from './transport';

export interface Answer {
  answers: DnsRecord[];
  additionals: DnsRecord[];
}

function asks(question: DnsQuestion, record: DnsRecord): boolean {
  return (
    sameName(question.name, record.name) &&
    (question.type === 'ANY' || question.type === record.type)
  );
}

/**
 * What our responder answers to a query, or undefined when it asks nothing of ours. A PTR answer
 * brings the SRV, TXT and addresses along as additionals (RFC 6763 §12), so one round trip
 * gives a browser the whole advert.
 */
export function answerQuery(
  questions: readonly DnsQuestion[],
  records: AdvertRecords,
): Answer | undefined {
  const own = [...allRecords(records), records.enumeration];
  const answers = own.filter((record) => questions.some((q) => asks(q, record)));
  if (answers.length === 0) return undefined;
  const wanted = new Set<DnsRecord>();
  for (const answer of answers) {
    if (answer === records.ptr)
      [records.srv, records.txt, ...records.addresses].forEach((r) => wanted.add(r));
    if (answer === records.srv) records.addresses.forEach((r) => wanted.add(r));
  }
  return { answers, additionals: [...wanted].filter((r) => !answers.includes(r)) };
}
