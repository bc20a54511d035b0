// Citizen (公民) pages: who read my data (when, which department, which case, under which rule; covert reads as the
// rules say), and my e-licences drawn as a document with the issuer's seal and a QR code of the compact signed form,
// downloadable as PNG (canvas) and PDF (jsPDF, the same picture: the PDF embeds no CJK font). QR code and jsPDF load
// only on this page.
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { query } from '../api.js';
import { t } from '../i18n.js';
import { BASE, Empty, ErrorBox, fmtTime, Link, Page, Show, useApi, useLocation, v } from '../ui.js';

interface Access {
  id: string;
  at: string;
  department: { uscc: string | null; name: string | null };
  purpose: { serviceItem: string | null; caseNumber: string | null };
  resource: { code: string | null; name: string | null };
  itemsReleased: string[];
  decision: string;
  ruleIds?: string[];
  rules?: string[];
}

export function AccessesPage(): JSX.Element {
  const { search } = useLocation();
  const cursor = search.get('cursor') ?? '';
  const loaded = useApi<{ accesses: Access[]; next: string | null }>(`${BASE}/api/me/accesses${query({ cursor })}`);
  return (
    <Page title={t('accesses')} testid="accesses-page">
      <Show loaded={loaded}>
        {(page) =>
          page.accesses.length === 0 ? (
            <Empty />
          ) : (
            <>
              <div class="scroll">
                <table data-testid="accesses">
                  <thead>
                    <tr>
                      <th scope="col">{t('time')}</th>
                      <th scope="col">{t('department')}</th>
                      <th scope="col">{t('purpose')}</th>
                      <th scope="col">{t('caseNumber')}</th>
                      <th scope="col">{t('resource')}</th>
                      <th scope="col">{t('items')}</th>
                      <th scope="col">{t('rule')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.accesses.map((a) => (
                      <tr key={a.id} data-testid="access-row">
                        <td>{fmtTime(a.at)}</td>
                        <td>{a.department.name ?? v(a.department.uscc)}</td>
                        <td>{v(a.purpose.serviceItem)}</td>
                        <td>{v(a.purpose.caseNumber)}</td>
                        <td>{a.resource.name ?? v(a.resource.code)}</td>
                        <td>{v(a.itemsReleased)}</td>
                        <td>{v(a.ruleIds ?? a.rules)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div class="pager">
                {cursor ? (
                  <Link href={`${BASE}/me/accesses`} class="button secondary">
                    {t('firstPage')}
                  </Link>
                ) : null}
                {page.next ? (
                  <Link href={`${BASE}/me/accesses${query({ cursor: page.next })}`} class="button secondary" testid="accesses-next-page">
                    {t('nextPage')}
                  </Link>
                ) : null}
              </div>
            </>
          )
        }
      </Show>
    </Page>
  );
}

interface LicenceDocument {
  identifier: string;
  name: string;
  typeName: string;
  licenceNumber: string;
  issuer: { code: string; name: string };
  issueDate: string;
  holder: { name: string; code: string; codeType: string };
  validFrom: string;
  validTo?: string;
  seal: { signer: string; signedAt: string; name: string };
  version: number;
  fields: Record<string, unknown>;
}

interface Licence {
  identifier: string;
  status: string;
  document: LicenceDocument;
  compact: string;
  issuer?: { name: string; sealPng?: string | null };
}

const sealSource = (png: string | null | undefined): string | null => (!png ? null : png.startsWith('data:') ? png : `data:image/png;base64,${png}`);

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('image'));
    img.src = src;
  });
}

/** Rows shown on the document: the GB/T 36903 fields, then the type's own fields. */
function rows(d: LicenceDocument): [string, string][] {
  return [
    [t('licenceNumber'), d.licenceNumber],
    [t('holder'), `${d.holder.name}（${d.holder.code}）`],
    [t('issuer'), d.issuer.name],
    [t('issueDate'), d.issueDate],
    [t('validity'), `${d.validFrom} – ${d.validTo ?? '长期'}`],
    ...Object.entries(d.fields ?? {}).map(([k, x]) => [k, v(x)] as [string, string]),
    [t('identifier'), d.identifier],
  ];
}

/** Draws the licence on a canvas: the picture both downloads use. */
async function drawLicence(l: Licence, qrDataUrl: string): Promise<HTMLCanvasElement> {
  const d = l.document;
  const W = 1240;
  const lines = rows(d);
  const top = 260 + lines.length * 56;
  const H = top + 400;
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fffdf7';
  g.fillRect(0, 0, W, H);
  g.strokeStyle = '#8a6d3b';
  g.lineWidth = 6;
  g.strokeRect(24, 24, W - 48, H - 48);
  g.fillStyle = '#222';
  g.textAlign = 'center';
  g.font = 'bold 56px "Noto Serif CJK SC", "Songti SC", "SimSun", serif';
  g.fillText(d.name, W / 2, 130);
  g.font = '26px "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  g.fillText(d.typeName, W / 2, 180);
  g.textAlign = 'left';
  let y = 260;
  for (const [k, x] of lines) {
    g.fillStyle = '#555';
    g.font = '26px "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
    g.fillText(k, 80, y);
    g.fillStyle = '#111';
    // Long values (the identifier) are set smaller until they fit the line.
    let size = 30;
    do g.font = `${size}px "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif`;
    while (g.measureText(String(x)).width > W - 330 - 80 && --size > 14);
    g.fillText(String(x), 330, y);
    y += 56;
  }
  const qr = await loadImage(qrDataUrl);
  g.drawImage(qr, W - 380, top, 300, 300);
  const seal = sealSource(l.issuer?.sealPng);
  const sx = W - 560;
  const sy = top + 150;
  if (seal) g.drawImage(await loadImage(seal), sx - 110, sy - 110, 220, 220);
  else {
    // No seal image: the seal is drawn as issuers print it, the issuer's name in red around a star.
    g.strokeStyle = '#c0392b';
    g.fillStyle = '#c0392b';
    g.lineWidth = 6;
    g.beginPath();
    g.arc(sx, sy, 100, 0, Math.PI * 2);
    g.stroke();
    g.font = 'bold 60px serif';
    g.textAlign = 'center';
    g.fillText('★', sx, sy + 20);
    g.font = 'bold 22px "Noto Sans CJK SC", sans-serif';
    const name = (d.seal?.name || d.issuer.name).slice(0, 16);
    const step = Math.PI / Math.max(name.length, 1);
    for (let i = 0; i < name.length; i++) {
      const a = Math.PI + step / 2 + i * step;
      g.save();
      g.translate(sx + Math.cos(a) * 76, sy + Math.sin(a) * 76);
      g.rotate(a + Math.PI / 2);
      g.fillText(name[i]!, 0, 8);
      g.restore();
    }
  }
  g.textAlign = 'left';
  g.fillStyle = '#555';
  g.font = '20px sans-serif';
  g.fillText(`${d.seal?.signer ?? ''} ${d.seal?.signedAt ?? ''}`, 80, H - 60);
  return canvas;
}

function download(href: string, name: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function LicenceCard(props: { licence: Licence }): JSX.Element {
  const l = props.licence;
  const d = l.document;
  const [qr, setQr] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    import('qrcode')
      // qrcode is CommonJS: its functions come as the module's default export.
      .then((m) => ((m as unknown as { default?: typeof m }).default ?? m).toDataURL(l.compact, { errorCorrectionLevel: 'L', margin: 1, width: 320 }))
      .then(
        (url) => live.current && setQr(url),
        (e: Error) => live.current && setError(e.message),
      );
    return () => {
      live.current = false;
    };
  }, [l.compact]);
  const file = `${d.name}-${d.licenceNumber}`.replace(/[^\p{L}\p{N}_-]+/gu, '_');
  const png = async () => {
    if (!qr) return;
    setBusy(true);
    try {
      download((await drawLicence(l, qr)).toDataURL('image/png'), `${file}.png`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const pdf = async () => {
    if (!qr) return;
    setBusy(true);
    try {
      const [{ jsPDF }, canvas] = await Promise.all([import('jspdf'), drawLicence(l, qr)]);
      const doc = new jsPDF({ unit: 'pt', format: [canvas.width * 0.6, canvas.height * 0.6] });
      doc.setProperties({ title: d.name, subject: d.identifier, creator: 'zhengtong console' });
      doc.addImage(canvas.toDataURL('image/png'), 'PNG', 0, 0, canvas.width * 0.6, canvas.height * 0.6);
      download(URL.createObjectURL(doc.output('blob')), `${file}.pdf`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const seal = sealSource(l.issuer?.sealPng);
  return (
    <article class="licence" data-testid="licence" data-identifier={d.identifier} aria-labelledby={`lic-${d.identifier}`}>
      <header>
        <h2 id={`lic-${d.identifier}`}>{d.name}</h2>
        <p>
          {d.typeName} · v{d.version} · {l.status}
        </p>
      </header>
      <div class="licence-body">
        <dl class="fields">
          {rows(d).map(([k, x]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{x}</dd>
            </div>
          ))}
        </dl>
        <div class="marks">
          {seal ? (
            <img src={seal} alt={`${d.issuer.name} 印章`} class="seal" data-testid="licence-seal" />
          ) : (
            <div class="seal drawn" role="img" aria-label={`${d.issuer.name} 印章`} data-testid="licence-seal">
              <span>{d.seal?.name || d.issuer.name}</span>
            </div>
          )}
          {qr ? <img src={qr} alt={t('qrNote')} class="qr" data-testid="licence-qr" /> : null}
        </div>
      </div>
      <p class="hint">{t('qrNote')}</p>
      {error ? <ErrorBox error={error} /> : null}
      <div class="actions">
        <button type="button" onClick={png} disabled={!qr || busy} data-testid="licence-png">
          {t('downloadPng')}
        </button>
        <button type="button" onClick={pdf} disabled={!qr || busy} data-testid="licence-pdf">
          {t('downloadPdf')}
        </button>
      </div>
    </article>
  );
}

export function LicencesPage(): JSX.Element {
  const loaded = useApi<{ licences: Licence[] }>(`${BASE}/api/me/licences`);
  return (
    <Page title={t('licences')} testid="licences-page">
      <Show loaded={loaded}>{(data) => (data.licences.length === 0 ? <Empty /> : data.licences.map((l) => <LicenceCard key={l.document.identifier} licence={l} />))}</Show>
    </Page>
  );
}
