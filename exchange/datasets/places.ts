// Administrative divisions (行政区划代码, GB/T 2260) and streets used by the demo datasets. The codes and street
// names are real; house numbers, buildings and rooms made up from them are not anybody's address.
import { WeightedTable } from './random.js';

export interface District {
  code: string;
  /** As written in an address after 辽宁省沈阳市. */
  name: string;
  streets: readonly string[];
  /** Relative share of the city's people and businesses. */
  weight: number;
}

/** The districts and counties of Shenyang (沈阳市, 210100). */
export const SHENYANG_DISTRICTS: readonly District[] = [
  { code: '210102', name: '和平区', streets: ['南京北街', '中华路', '太原北街', '十一纬路', '三好街', '南五马路'], weight: 12 },
  { code: '210103', name: '沈河区', streets: ['青年大街', '北顺城路', '中街路', '小南街', '市府大路', '五爱街'], weight: 11 },
  { code: '210104', name: '大东区', streets: ['东北大马路', '小河沿路', '大什字街', '津桥路', '东望街'], weight: 9 },
  { code: '210105', name: '皇姑区', streets: ['黄河北大街', '崇山中路', '长江街', '北陵大街', '鸭绿江街'], weight: 10 },
  { code: '210106', name: '铁西区', streets: ['兴华南街', '北二中路', '建设大路', '卫工北街', '保工街', '重工街'], weight: 13 },
  { code: '210111', name: '苏家屯区', streets: ['枫杨路', '雪松路', '迎春街'], weight: 5 },
  { code: '210112', name: '浑南区', streets: ['浑南中路', '全运路', '创新路', '世纪路', '富民南街'], weight: 10 },
  { code: '210113', name: '沈北新区', streets: ['道义南大街', '蒲河路', '虎石台大街', '辉山大街'], weight: 6 },
  { code: '210114', name: '于洪区', streets: ['黄海路', '洪湖北街', '沈大路', '吉力湖街'], weight: 8 },
  { code: '210115', name: '辽中区', streets: ['蒲东街', '茨榆坨街', '中央路'], weight: 4 },
  { code: '210123', name: '康平县', streets: ['胜利街', '东关街'], weight: 2 },
  { code: '210124', name: '法库县', streets: ['正阳街', '中兴街'], weight: 3 },
  { code: '210181', name: '新民市', streets: ['新柳街', '辽河大街', '民主路'], weight: 4 },
];

export const SHENYANG_CITY_CODE = '210100';

const BY_CODE = new Map(SHENYANG_DISTRICTS.map((d) => [d.code, d]));

export function shenyangDistrict(code: string): District | undefined {
  return BY_CODE.get(code);
}

/**
 * Places of birth registration outside Shenyang for people who moved there: most from elsewhere in Liaoning, some
 * from the neighbouring provinces and further away.
 */
export const OTHER_BIRTH_AREAS = new WeightedTable<string>([
  ['210202', 3], // 大连市中山区
  ['210302', 3], // 鞍山市铁东区
  ['210402', 2], // 抚顺市新抚区
  ['210502', 2], // 本溪市平山区
  ['210602', 2], // 丹东市元宝区
  ['210702', 2], // 锦州市古塔区
  ['210802', 2], // 营口市站前区
  ['210902', 1], // 阜新市海州区
  ['211002', 1], // 辽阳市白塔区
  ['211102', 1], // 盘锦市双台子区
  ['211202', 2], // 铁岭市银州区
  ['211302', 1], // 朝阳市双塔区
  ['211402', 1], // 葫芦岛市连山区
  ['220102', 2], // 长春市南关区
  ['230102', 2], // 哈尔滨市道里区
  ['150102', 1], // 呼和浩特市新城区
  ['130102', 1], // 石家庄市长安区
  ['370102', 1], // 济南市历下区
  ['110105', 1], // 北京市朝阳区
]);

/** A district, in proportion to its share of the city. */
export const DISTRICTS_BY_WEIGHT = new WeightedTable(SHENYANG_DISTRICTS.map((d) => [d, d.weight] as const));
