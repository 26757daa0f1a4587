//! What makes a honey patient clinically plausible: who is sent for which
//! examination (sex and age rules, e.g. screening mammography only for women of
//! screening age), when departments scan (elective lists in working hours, acute
//! work around the clock), the series and image counts each examination produces,
//! who refers, and one trust-like numbering of accessions and stations.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};

use super::nhs;
use super::patient::{new_uid, HoneyPatient, Series, Study, INSTANCE_SUFFIX_LEN};

/// Where the patients were scanned: the parts of a study that come from the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// DICOM UID root of studies and series (`2.25`: UUID-derived).
    pub uid_root: String,
    /// Institution Name on every study.
    pub institution_name: String,
    /// Short code the site prefixes accession numbers and station names with.
    pub site_code: String,
}

impl Default for Site {
    fn default() -> Self {
        Site { uid_root: "2.25".into(), institution_name: "General Hospital".into(), site_code: "GHR".into() }
    }
}

/// Who an examination is done on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anyone,
    Women,
}

/// When a department does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hours {
    /// Booked lists: weekdays, 08:00 to 17:59.
    Elective,
    /// Emergency work as well: about a third out of hours, nights and weekends.
    Acute,
}

/// Who refers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Referrer {
    GeneralPractice,
    Emergency,
    Specialist,
    Obstetrics,
    Screening,
}

/// One examination a department does.
#[derive(Debug)]
pub struct Exam {
    pub modality: &'static str,
    pub description: &'static str,
    pub body_part: &'static str,
    pub who: Who,
    /// Ages in years at the study, inclusive.
    pub ages: (u32, u32),
    pub hours: Hours,
    referrer: Referrer,
    /// Series description and (fewest, most) images.
    pub series: &'static [(&'static str, u32, u32)],
}

const fn exam(
    modality: &'static str,
    description: &'static str,
    body_part: &'static str,
    who: Who,
    ages: (u32, u32),
    (hours, referrer): (Hours, Referrer),
    series: &'static [(&'static str, u32, u32)],
) -> Exam {
    Exam { modality, description, body_part, who, ages, hours, referrer, series }
}

use Hours::{Acute, Elective};
use Referrer::{Emergency, GeneralPractice, Obstetrics, Screening, Specialist};
use Who::{Anyone, Women};

/// The examinations the honey department does.
pub const EXAMS: &[Exam] = &[
    exam(
        "CT",
        "CT HEAD WITHOUT CONTRAST",
        "HEAD",
        Anyone,
        (18, 105),
        (Acute, Emergency),
        &[("Topogram 0.6 T20s", 1, 1), ("Head 5.0 H31s", 28, 36), ("Head 0.75 H60s bone", 180, 240)],
    ),
    exam(
        "CT",
        "CT PULMONARY ANGIOGRAM",
        "CHEST",
        Anyone,
        (18, 105),
        (Acute, Emergency),
        &[("Topogram 0.6 T20f", 1, 1), ("Bolus tracking", 8, 14), ("CTPA 1.0 I26f", 280, 400), ("CTPA MIP 10.0 ax", 55, 80)],
    ),
    exam(
        "CT",
        "CT CHEST ABDOMEN PELVIS WITH CONTRAST",
        "ABDOMEN",
        Anyone,
        (18, 105),
        (Elective, Specialist),
        &[("Topogram 0.6 T20f", 1, 2), ("Portal venous 5.0 Br40", 80, 110), ("Portal venous 1.0 Br40", 420, 620), ("Coronal 3.0 Br40", 110, 160)],
    ),
    exam(
        "MR",
        "MRI BRAIN WITH AND WITHOUT CONTRAST",
        "HEAD",
        Anyone,
        (18, 95),
        (Elective, Specialist),
        &[
            ("localizer", 3, 3),
            ("t2_tse_tra", 22, 26),
            ("t2_tirm_tra_dark-fluid", 22, 26),
            ("ep2d_diff_tra", 50, 75),
            ("t1_se_tra", 22, 26),
            ("t1_se_tra_post", 22, 26),
            ("t1_mprage_sag_post", 160, 192),
        ],
    ),
    exam(
        "MR",
        "MRI LUMBAR SPINE",
        "LSPINE",
        Anyone,
        (18, 95),
        (Elective, GeneralPractice),
        &[("localizer", 3, 3), ("t2_tse_sag", 13, 17), ("t1_tse_sag", 13, 17), ("t2_tse_tra", 24, 36)],
    ),
    exam(
        "MR",
        "MRI KNEE",
        "KNEE",
        Anyone,
        (16, 80),
        (Elective, Specialist),
        &[("localizer", 3, 3), ("pd_tse_fs_cor", 24, 30), ("pd_tse_fs_sag", 26, 32), ("t1_tse_cor", 24, 30), ("pd_tse_fs_tra", 24, 30)],
    ),
    exam("DX", "XR CHEST PA", "CHEST", Anyone, (0, 110), (Acute, Emergency), &[("PA", 1, 1)]),
    exam("DX", "XR CHEST", "CHEST", Anyone, (16, 110), (Elective, GeneralPractice), &[("PA", 1, 1)]),
    exam("DX", "XR PELVIS AND HIP", "HIP", Anyone, (50, 110), (Acute, Emergency), &[("AP pelvis", 1, 1), ("Lateral hip", 1, 1)]),
    exam("DX", "XR KNEE", "KNEE", Anyone, (16, 100), (Elective, GeneralPractice), &[("AP", 1, 1), ("Lateral", 1, 1)]),
    exam("DX", "XR WRIST", "HAND", Anyone, (5, 100), (Acute, Emergency), &[("PA", 1, 1), ("Lateral", 1, 1)]),
    exam("US", "US ABDOMEN", "ABDOMEN", Anyone, (18, 100), (Elective, GeneralPractice), &[("Abdomen", 18, 40)]),
    exam("US", "US OBSTETRIC DATING SCAN", "PELVIS", Women, (18, 44), (Elective, Obstetrics), &[("Obstetric", 8, 20)]),
    exam("US", "US OBSTETRIC ANOMALY SCAN", "PELVIS", Women, (18, 44), (Elective, Obstetrics), &[("Obstetric", 25, 50)]),
    exam("MG", "MAMMOGRAPHY SCREENING BILATERAL", "BREAST", Women, (50, 71), (Elective, Screening), &[("RCC LCC RMLO LMLO", 4, 4)]),
];

/// The examination anyone can have at any age (a chest X-ray).
fn any_age() -> &'static Exam {
    &EXAMS[6]
}

/// Referrers by kind, as DICOM Person Names.
fn referrers(kind: Referrer) -> &'static [&'static str] {
    match kind {
        GeneralPractice => &["OKONKWO^Adaeze^^Dr", "HARGREAVES^Philip^^Dr", "MCKENZIE^Louise^^Dr", "SIDDIQUI^Imran^^Dr"],
        Emergency => &["BRANNIGAN^Siobhan^^Dr", "ADEYEMI^Tunde^^Dr", "FAIRCLOUGH^James^^Dr"],
        Specialist => &["VENKATARAMAN^Lakshmi^^Dr", "PEMBERTON^Richard^^Mr", "NOWAK^Katarzyna^^Dr", "OSEI^Kwame^^Dr"],
        Obstetrics => &["LINDQVIST^Anna^^Miss", "CHAUDHRY^Nadia^^Dr"],
        Screening => &["MARLOWE^Catherine^^Dr"],
    }
}

const GIVEN_F: &[&str] = &["Margaret", "Susan", "Joan", "Patricia", "Eileen", "Sarah", "Emma", "Priya", "Aisha", "Helen", "Gwen", "Fiona", "Chloe", "Zainab"];
const GIVEN_M: &[&str] = &["David", "John", "Robert", "Michael", "Peter", "Ahmed", "Thomas", "Gareth", "Ian", "Rajesh", "Colin", "Stephen", "Liam", "Tomasz"];
const FAMILY: &[&str] = &[
    "Thompson",
    "Hughes",
    "Walker",
    "Patel",
    "Roberts",
    "Evans",
    "Khan",
    "Wright",
    "Morgan",
    "Davies",
    "Clarke",
    "Begum",
    "Turner",
    "Ellis",
    "Lloyd",
    "Fletcher",
    "Whitfield",
    "Ashworth",
    "Pritchard",
    "Holloway",
    "Okafor",
    "Kowalski",
    "Nicholls",
    "Sutcliffe",
];

/// Whole years from `birth` to `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

/// A `YYYYMMDD` or `HHMMSS`-style DICOM date as a date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The time of an examination done in `hours` on or near `day` (an elective one
/// that falls on a weekend is booked on the Friday before): (date, seconds after
/// midnight).
fn when(rng: &mut impl Rng, hours: Hours, mut day: NaiveDate) -> (NaiveDate, u32) {
    let out_of_hours = hours == Acute && (is_weekend(day) || rng.random_bool(0.25));
    if !out_of_hours {
        while is_weekend(day) {
            day -= Duration::days(1);
        }
        let minute = rng.random_range(8 * 60..18 * 60);
        return (day, minute * 60 + rng.random_range(0..60));
    }
    // Evenings, nights and weekends: any minute outside the weekday list.
    loop {
        let minute = rng.random_range(0..24 * 60);
        if is_weekend(day) || !(8 * 60..18 * 60).contains(&minute) {
            return (day, minute * 60 + rng.random_range(0..60));
        }
    }
}

/// One study of `exam` at (date, seconds after midnight).
fn study(rng: &mut impl Rng, site: &Site, exam: &Exam, (day, second): (NaiveDate, u32)) -> Study {
    let series = exam
        .series
        .iter()
        .enumerate()
        .map(|(i, &(description, fewest, most))| Series {
            series_instance_uid: new_uid(rng, &site.uid_root, INSTANCE_SUFFIX_LEN),
            number: i as u32 + 1,
            modality: exam.modality.into(),
            description: description.into(),
            instance_count: rng.random_range(fewest..=most),
            listed: Vec::new(),
        })
        .collect();
    let unit = rng.random_range(1..=2);
    Study {
        study_instance_uid: new_uid(rng, &site.uid_root, 0),
        accession_number: format!("{}{:02}{:06}", site.site_code, day.year() % 100, rng.random_range(1..1_000_000u32)),
        study_date: day.format("%Y%m%d").to_string(),
        study_time: format!("{:02}{:02}{:02}", second / 3600, second / 60 % 60, second % 60),
        modality: exam.modality.into(),
        description: exam.description.into(),
        body_part: exam.body_part.into(),
        referring_physician: referrers(exam.referrer).choose(rng).copied().unwrap_or_default().into(),
        institution_name: site.institution_name.clone(),
        station_name: format!("{}{}{unit:02}", site.site_code, exam.modality),
        series,
    }
}

/// The examinations a person of `sex` (`F`/`M`) and `age` can be sent for.
pub fn eligible(sex: &str, age: u32) -> impl Iterator<Item = &'static Exam> + '_ {
    EXAMS.iter().filter(move |e| (e.who == Anyone || sex == "F") && (e.ages.0..=e.ages.1).contains(&age))
}

/// A honey patient with `studies` studies dated between `from` and `until`, each one
/// an examination their sex and age allow, in date order.
pub fn patient(rng: &mut impl Rng, site: &Site, studies: usize, from: NaiveDate, until: NaiveDate) -> HoneyPatient {
    let female = rng.random_bool(0.5);
    let sex = if female { "F" } else { "M" };
    let oldest = until.year() - 95;
    let birth = NaiveDate::from_ymd_opt(rng.random_range(oldest..=until.year() - 18), rng.random_range(1..=12), rng.random_range(1..=28)).unwrap_or(from);
    let from = from.max(birth + Duration::days(366 * 16));
    let mut done: Vec<Study> = (0..studies.max(1))
        .map(|_| {
            let day = from + Duration::days(rng.random_range(0..=(until - from).num_days().max(0)));
            let choices: Vec<&Exam> = eligible(sex, age_on(birth, day)).collect();
            let exam = choices.choose(rng).copied().unwrap_or(any_age());
            let (day, second) = when(rng, exam.hours, day);
            // Moving to the Friday can cross a birthday the examination depends on.
            let exam = if eligible(sex, age_on(birth, day)).any(|e| std::ptr::eq(e, exam)) { exam } else { any_age() };
            study(rng, site, exam, (day, second))
        })
        .collect();
    done.sort_by(|a, b| (&a.study_date, &a.study_time).cmp(&(&b.study_date, &b.study_time)));
    HoneyPatient {
        family_name: FAMILY.choose(rng).copied().unwrap_or("Walker").into(),
        given_name: if female { GIVEN_F } else { GIVEN_M }.choose(rng).copied().unwrap_or("Alex").into(),
        sex: sex.into(),
        birth_date: birth.format("%Y%m%d").to_string(),
        nhs_number: nhs::generate(rng),
        mrn: format!("{}{:07}", site.site_code.chars().next().unwrap_or('H'), rng.random_range(0..10_000_000u32)),
        studies: done,
    }
}

/// The last day the decoys' cohort has studies on (fixed, so that every decoy and
/// sensor generating the cohort from the same seed agrees, whenever it starts).
pub fn cohort_until() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 30).unwrap_or_default()
}

/// The decoys' synthetic cohort: `size` patients from `seed`, studies from 2019 to
/// [`cohort_until`], most patients with one or two studies, some with more.
pub fn cohort(seed: u64, size: usize, site: &Site) -> Vec<HoneyPatient> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let from = NaiveDate::from_ymd_opt(2019, 1, 2).unwrap_or_default();
    (0..size)
        .map(|_| {
            let studies = [1, 1, 1, 1, 2, 2, 2, 3, 3, 4].choose(&mut rng).copied().unwrap_or(1);
            patient(&mut rng, site, studies, from, cohort_until())
        })
        .collect()
}
