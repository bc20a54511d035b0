import type { DepartmentRegistration } from '../registry/departments/index.js';

/**
 * The demo city's departments (Shenyang, area code 210100). The codes are synthetic but valid GB 32100 codes of
 * government bodies (registration authority 1, organisation type 1 = 机关).
 */
export const DEMO_DEPARTMENTS: readonly DepartmentRegistration[] = [
  { uscc: '11210100001000010R', name: '沈阳市公安局', shortName: '市公安局' },
  { uscc: '11210100001000029N', name: '沈阳市市场监督管理局', shortName: '市场监管局' },
  { uscc: '11210100001000037H', name: '沈阳市人力资源和社会保障局', shortName: '人社局' },
  { uscc: '11210100001000045C', name: '沈阳市民政局', shortName: '民政局' },
  { uscc: '112101000010000537', name: '沈阳市营商环境建设局', shortName: '营商局' },
  { uscc: '112101000010000612', name: '沈阳市自然资源局', shortName: '自然资源局' },
  { uscc: '112101000010000700', name: '沈阳市卫生健康委员会', shortName: '卫健委' },
  // Supervision of the access log (监管, ZT_AUDIT_SUPERVISORS by default) and the citizens' portal (一网通办,
  // ZT_AUDIT_PORTALS by default), which shows a citizen or enterprise who read its data.
  { uscc: '11210100001000096L', name: '沈阳市政务服务和数据管理局', shortName: '政数局' },
  { uscc: '11210100001000109A', name: '沈阳市政务服务中心', shortName: '一网通办' },
];
