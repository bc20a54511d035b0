// Chinese personal names for the demo people: common surnames with rough frequencies, and given names whose style
// follows the decade of birth (建国, 秀英 for the 1950s; 子涵, 梓萱 for the 2010s). Any match with a real person's name is
// a coincidence of common names; the ID numbers they are paired with are made up.
import { WeightedTable, type SeededRandom } from './random.js';

/** [surname, weight]: the most common surnames, with Manchu-origin ones (关, 佟, 那, 富) that are frequent in Liaoning. */
const SURNAMES = new WeightedTable<string>([
  ['王', 72], ['李', 70], ['张', 68], ['刘', 55], ['陈', 45], ['杨', 31], ['赵', 29], ['黄', 22], ['周', 21], ['吴', 20],
  ['徐', 17], ['孙', 18], ['胡', 13], ['朱', 12], ['高', 14], ['林', 11], ['何', 10], ['郭', 12], ['马', 12], ['罗', 8],
  ['梁', 7], ['宋', 8], ['郑', 7], ['谢', 6], ['韩', 8], ['唐', 6], ['冯', 6], ['于', 8], ['董', 6], ['程', 5],
  ['曹', 5], ['袁', 5], ['邓', 5], ['许', 5], ['傅', 4], ['沈', 4], ['曾', 3], ['彭', 4], ['吕', 4], ['苏', 4],
  ['卢', 4], ['蒋', 4], ['蔡', 4], ['贾', 4], ['丁', 4], ['魏', 4], ['薛', 3], ['叶', 3], ['阎', 3], ['潘', 3],
  ['杜', 3], ['戴', 3], ['夏', 3], ['田', 4], ['任', 4], ['姜', 5], ['范', 3], ['方', 3], ['石', 3], ['姚', 3],
  ['谭', 2], ['邹', 2], ['金', 3], ['陆', 2], ['郝', 3], ['孔', 2], ['白', 3], ['崔', 4], ['康', 2], ['毛', 2],
  ['秦', 2], ['史', 2], ['侯', 3], ['孟', 3], ['段', 2], ['常', 2], ['武', 2], ['乔', 2], ['贺', 2], ['尹', 2],
  ['关', 3], ['佟', 2], ['那', 1], ['富', 1], ['欧阳', 1], ['司马', 0.3], ['上官', 0.3],
]);

type Era = 'classic' | 'middle' | 'modern';

const GIVEN: Readonly<Record<Era, { male: readonly string[]; female: readonly string[] }>> = {
  classic: {
    male: ['建国', '国庆', '建华', '卫东', '志刚', '文革', '国强', '振华', '德明', '永胜', '长林', '立新', '保国', '树森', '玉明', '强', '军', '刚', '平', '明', '林', '福', '斌', '华', '忠'],
    female: ['秀英', '桂英', '玉兰', '淑珍', '凤兰', '秀兰', '桂兰', '丽华', '淑华', '玉珍', '凤英', '秀珍', '淑芬', '桂芝', '素梅', '兰', '英', '芳', '萍', '霞', '红', '梅', '珍'],
  },
  middle: {
    male: ['伟', '磊', '勇', '杰', '涛', '超', '鹏', '飞', '波', '辉', '健', '亮', '峰', '东', '海', '志强', '建军', '海涛', '晓东', '俊杰', '宏伟', '明辉', '文博', '振宇', '天宇', '鑫', '旭', '帅', '凯'],
    female: ['静', '丽', '娜', '敏', '燕', '艳', '娟', '丹', '琳', '洁', '婷', '晶', '颖', '慧', '雪', '晓红', '丽娜', '海燕', '春梅', '晓丽', '文静', '雪梅', '佳', '倩', '莉', '璐', '楠', '爽'],
  },
  modern: {
    male: ['子轩', '浩然', '宇轩', '子涵', '梓豪', '一诺', '睿泽', '俊熙', '皓轩', '铭泽', '博文', '思远', '浩宇', '天佑', '子墨', '奕辰', '锦程', '沐阳', '宸', '睿', '泽', '航', '昊'],
    female: ['梓萱', '欣怡', '子涵', '诗涵', '梦琪', '思雨', '语嫣', '雨桐', '可馨', '一诺', '佳怡', '紫萱', '若汐', '依诺', '欣妍', '雨萱', '悦', '彤', '萱', '琪', '妍', '涵'],
  },
};

function eraOf(birthYear: number): Era {
  if (birthYear < 1975) return 'classic';
  if (birthYear < 2000) return 'middle';
  return 'modern';
}

export function pickSurname(random: SeededRandom): string {
  return random.weighted(SURNAMES);
}

export function pickGivenName(random: SeededRandom, male: boolean, birthYear: number): string {
  // Fashions overlap: a quarter of the time borrow from the neighbouring decades' style.
  let era = eraOf(birthYear);
  if (random.chance(0.25)) era = era === 'classic' ? 'middle' : era === 'modern' ? 'middle' : random.chance(0.5) ? 'classic' : 'modern';
  const pool = GIVEN[era];
  return random.pick(male ? pool.male : pool.female);
}

/** [ethnicity, weight]: Liaoning has a large Manchu (满族) population, and Korean (朝鲜族), Mongol and Xibe minorities. */
export const ETHNICITIES = new WeightedTable<string>([
  ['汉族', 83],
  ['满族', 12],
  ['蒙古族', 2],
  ['回族', 1.5],
  ['朝鲜族', 1],
  ['锡伯族', 0.5],
]);
