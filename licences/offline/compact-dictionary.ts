// The preset DEFLATE dictionary of compact format ZTL1 (compact.ts): text that licence documents share, so that
// DEFLATE can refer back to it from the first byte instead of spelling every key out once. DEFLATE reaches back at
// most 32 KiB and codes near matches more cheaply, so the most common text (the canonical key skeleton) comes last.
//
// FROZEN: a QR code printed today must decode in ten years. Changing one byte of this text breaks every code made
// with it; a better dictionary needs a new format (ZTL2:) beside this one. compact.test.ts pins its SM3.
const COMMON_VALUES = [
  // Business licences (营业执照) and their usual field codes and words.
  'registrationAuthority',
  'businessTerm',
  'establishedDate',
  'companyType',
  'registeredCapital',
  'legalRepresentative',
  'businessScope',
  'address',
  '依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以审批结果为准',
  '许可项目：',
  '一般项目：',
  '技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；',
  '食品经营；餐饮服务；食品销售；',
  '（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）',
  '有限责任公司（自然人投资或控股）',
  '有限责任公司（法人独资）',
  '股份有限公司',
  '个体工商户',
  '有限公司',
  '万元人民币',
  '长期',
  // Issuers and places.
  '人民政府',
  '行政审批局',
  '公安局',
  '人力资源和社会保障局',
  '民政局',
  '市场监督管理局',
  '电子印章',
  '电子证照',
  '营业执照',
  '许可证',
  '辽宁省沈阳市',
  '省',
  '市',
  '区',
  '县',
  '街道',
  '路',
  '号',
].join('');

// Canonical JSON orders keys by code unit, so every document is this skeleton with values filled in.
const SKELETON =
  '{"annotations":[{"madeAt":"","madeBy":"","reason":"","validTo":""}],"areaCode":"21","fields":{},' +
  '"holder":{"code":"91","codeType":"001","name":""},"identifier":"1.2.156.3005.2.","issueDate":"20","issuer":{"code":"11","name":""},' +
  '"licenceNumber":"","name":"","schema":"zhengtong/e-licence/v1","seal":{"name":"","signedAt":"20T00:00:00.000Z","signer":""},' +
  '"status":{"index":,"list":"https://"},"supersedes":"1.2.156.3005.2.","typeCode":"","typeName":"","validFrom":"20","validTo":"20","version":1}';

export const COMPACT_DICTIONARY_V1: Buffer = Buffer.from(COMMON_VALUES + SKELETON, 'utf8');
