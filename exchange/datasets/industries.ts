// Lines of business for the demo enterprises: the word in a company name (行业表述), the scope as registration
// documents phrase it (经营范围), and the shop names an individual business (个体工商户) of the line uses.
import { WeightedTable } from './random.js';

export interface Industry {
  /** In a company name: 沈阳<字号><trade>有限公司. */
  trade: string;
  scope: string;
  /** In an individual business's name: <区><字号><shop>. */
  shops: readonly string[];
  weight: number;
}

const LICENSED = '（依法须经批准的项目，经相关部门批准后方可开展经营活动）';

export const INDUSTRIES: readonly Industry[] = [
  { trade: '餐饮管理', scope: `餐饮服务；食品销售；餐饮管理；外卖递送服务。${LICENSED}`, shops: ['饭店', '面馆', '烧烤店', '饺子馆', '酒馆'], weight: 16 },
  { trade: '餐饮', scope: `餐饮服务；食品经营（销售预包装食品）。${LICENSED}`, shops: ['小吃部', '火锅店', '快餐店'], weight: 10 },
  { trade: '商贸', scope: '日用百货、五金产品、服装鞋帽、电子产品、办公用品销售。', shops: ['便利店', '超市', '商店', '五金商店'], weight: 16 },
  { trade: '科技', scope: '技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务。', shops: ['电脑维修部'], weight: 10 },
  { trade: '建筑工程', scope: `建设工程施工；建筑劳务分包；住宅室内装饰装修。${LICENSED}`, shops: ['装饰工作室'], weight: 7 },
  { trade: '物流', scope: '道路货物运输（不含危险货物）；普通货物仓储服务；国内货物运输代理。', shops: ['货运部'], weight: 6 },
  { trade: '文化传媒', scope: '组织文化艺术交流活动；广告设计、代理；广告制作；会议及展览服务。', shops: ['图文设计部'], weight: 5 },
  { trade: '医药', scope: `药品零售；医疗器械销售；保健食品（预包装）销售。${LICENSED}`, shops: ['大药房'], weight: 4 },
  { trade: '机械制造', scope: '通用设备制造（不含特种设备制造）；机械零件、零部件加工；金属切削加工服务。', shops: ['机械加工部'], weight: 5 },
  { trade: '汽车销售服务', scope: '汽车新车销售；二手车经纪；机动车修理和维护；汽车零配件零售。', shops: ['汽车修理部', '洗车行'], weight: 4 },
  { trade: '教育咨询', scope: '教育咨询服务（不含涉许可审批的教育培训活动）；文化艺术辅导。', shops: ['书法工作室'], weight: 3 },
  { trade: '物业管理', scope: '物业管理；停车场服务；家政服务；城市绿化管理。', shops: ['家政服务部'], weight: 4 },
  { trade: '美容美发', scope: `生活美容服务；理发服务；化妆品零售。${LICENSED}`, shops: ['美发店', '美容院'], weight: 4 },
];

/** Characters that trade names (字号) are made of. */
export const TRADE_NAME_CHARACTERS = [...'盛京鑫达华兴恒瑞祥宏远金泰和信诚德顺通利丰源安康博创辉嘉益永昌隆新天正合众北辰浑河辽御福佳美凯旭东方中海宇航明光晟峰腾飞锦程润泽汇'];

/** Company forms and how often they occur. */
export const COMPANY_FORMS = new WeightedTable<string>([
  ['有限公司', 85],
  ['有限责任公司', 10],
  ['股份有限公司', 5],
]);

export const INDUSTRIES_BY_WEIGHT = new WeightedTable(INDUSTRIES.map((i) => [i, i.weight] as const));
